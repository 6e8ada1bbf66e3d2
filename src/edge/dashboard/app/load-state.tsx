/** What a page shows until its data has loaded: the error that stopped the load, or that it is loading. */
export function NotLoaded({ error }: { error: string | null }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : (
    <p aria-busy="true">Loading…</p>
  );
}
