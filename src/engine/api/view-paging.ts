import type { ActorCursor, ActorPageQuery, Store, StoredActor } from '../store/store.js';

/** A page asked of a list (`runtime.tasks.page` ...): how many, which way, after which key. */
export interface PageRequest {
  /** Items per page, 1 or more. */
  limit: number;
  /** `newest` (creation time descending) or `oldest` first. */
  order: 'newest' | 'oldest';
  /** Start after this item: the `next` of the previous page. */
  after?: ActorCursor | undefined;
}

/** A page of views and where the next one starts (null: this was the last). */
export interface ViewPage<V> {
  items: V[];
  next: ActorCursor | null;
}

/**
 * One page of views over the store's keyset (`Store.pageActors`): rows are read a batch at a
 * time from the key on, each made a view (or left out: `view` returns undefined for a filter the
 * store cannot apply), until the page is full and one more match shows that another page
 * follows. Memory holds one batch, whatever the number of actors; a filter that matches few
 * reads further, a batch at a time.
 *
 * @example
 * ```ts
 * const page = await pageViews(store, { kinds: ['ticket'] }, { limit: 50, order: 'newest' }, (a) => ticketOf(a));
 * ```
 */
export async function pageViews<V>(
  store: Store,
  query: Omit<ActorPageQuery, 'order' | 'after' | 'limit'>,
  request: PageRequest,
  view: (actor: StoredActor) => V | undefined | Promise<V | undefined>,
): Promise<ViewPage<V>> {
  const items: V[] = [];
  let last: ActorCursor | null = null;
  let after = request.after;
  // One more than the page: with no filter left to the views, one read says whether more follow.
  const batch = Math.min(request.limit + 1, 1_001);
  for (;;) {
    const page = await store.pageActors({
      ...query,
      order: request.order,
      limit: batch,
      ...(after !== undefined ? { after } : {}),
    });
    for (const { actor, createdAt } of page.items) {
      const made = await view(actor);
      if (made === undefined) continue;
      if (items.length === request.limit) return { items, next: last };
      items.push(made);
      last = { createdAt, id: actor.id };
    }
    if (page.next === null) return { items, next: null };
    after = page.next;
  }
}
