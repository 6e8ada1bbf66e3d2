/**
 * How many shards a node of a sharded cluster should take or give back, from what every live node
 * holds now. Each node ends between `floor(N / nodes)` and `ceil(N / nodes)`: a node takes free
 * shards up to the ceiling unless another holds fewer than the floor (then only up to the floor,
 * leaving the rest to it), and gives one back when it holds more than the ceiling, or more than
 * the floor while another holds fewer than the floor.
 *
 * @example
 * ```ts
 * shardBalance(4, new Map([['n1', 2], ['n2', 2], ['n3', 0]]), 'n1'); // { giveBack: true, take: 0 }
 * shardBalance(4, new Map([['n1', 1], ['n2', 2], ['n3', 0]]), 'n3'); // { giveBack: false, take: 2 }
 * ```
 */
export function shardBalance(
  count: number,
  holdings: ReadonlyMap<string, number>,
  me: string,
): { giveBack: boolean; take: number } {
  const nodes = Math.max(1, holdings.size);
  const floor = Math.floor(count / nodes);
  const ceiling = Math.ceil(count / nodes);
  const mine = holdings.get(me) ?? 0;
  const starved = [...holdings].some(([id, held]) => id !== me && held < floor);
  if (mine > ceiling || (mine > floor && starved)) return { giveBack: true, take: 0 };
  return { giveBack: false, take: Math.max(0, (starved ? floor : ceiling) - mine) };
}
