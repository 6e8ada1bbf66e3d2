/** Short human forms of times and values for tables. */

export function ago(at: number | null | undefined, now = Date.now()): string {
  if (at === null || at === undefined) return '—';
  const s = Math.round((now - at) / 1000);
  if (s < 0) return 'in ' + duration(-s * 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;
}

export function clock(at: number | null | undefined): string {
  return at === null || at === undefined ? '—' : new Date(at).toISOString().replace('T', ' ').slice(0, 19);
}

export function json(value: unknown): string {
  return value === undefined ? '—' : JSON.stringify(value, null, 2);
}
