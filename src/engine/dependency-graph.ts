import { TroupeError } from '../core/errors.js';

export interface GraphNode {
  id: string;
  /** Absent means none. */
  dependsOn?: readonly string[] | undefined;
}

const NONE: readonly string[] = [];

/**
 * Orders new tasks so that each comes after the new tasks it depends on, and rejects a cycle
 * with an error that names it (`a -> b -> c -> a`). Dependencies outside the given set are
 * taken as already existing and impose no order.
 */
export function orderByDependencies<T extends GraphNode>(nodes: readonly T[]): T[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const ordered: T[] = [];
  const path: string[] = [];

  const visit = (node: T): void => {
    // Iterative depth-first search: deep chains of thousands of tasks must not blow the stack.
    const stack: Array<{ node: T; next: number }> = [{ node, next: 0 }];
    state.set(node.id, 'visiting');
    path.push(node.id);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as { node: T; next: number };
      const deps = frame.node.dependsOn ?? NONE;
      if (frame.next < deps.length) {
        const depId = deps[frame.next++] as string;
        const dep = byId.get(depId);
        if (!dep) continue;
        const seen = state.get(depId);
        if (seen === 'done') continue;
        if (seen === 'visiting') {
          const cycle = [...path.slice(path.indexOf(depId)), depId];
          throw new TroupeError(
            'E_DEPENDENCY_CYCLE',
            cycle.length === 2 ? `task ${depId} depends on itself` : `dependency cycle: ${cycle.join(' -> ')}`,
            { details: { cycle } },
          );
        }
        state.set(depId, 'visiting');
        path.push(depId);
        stack.push({ node: dep, next: 0 });
      } else {
        stack.pop();
        path.pop();
        state.set(frame.node.id, 'done');
        ordered.push(frame.node);
      }
    }
  };

  for (const node of nodes) if (!state.has(node.id)) visit(node);
  return ordered;
}
