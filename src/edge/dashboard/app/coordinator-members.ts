import type { CoordinatorView } from './views.js';

/** Task statuses that end a task: a coordinator waits for none of these. */
const SETTLED = new Set(['succeeded', 'dead_lettered', 'cancelled', 'skipped', 'discarded']);

export const isSettledStatus = (status: string): boolean => SETTLED.has(status);

/** Whether the coordinator has not decided yet (a join waiting, a saga running). */
export const isUndecided = (view: CoordinatorView): boolean => view.status === 'waiting' || view.status === 'running';

/** The tasks a coordinator is about: what a join waits for, what a split made, a saga's steps. */
export function membersOf(view: CoordinatorView): string[] {
  switch (view.kind) {
    case 'join':
    case 'sync':
      return view.sources;
    case 'split':
      return view.children;
    case 'saga':
      return view.steps.map((s) => s.taskId);
    case 'guard':
      return [view.taskId];
    case 'route':
      return view.created;
    case 'barrier':
      return view.arrived;
  }
}

/** Tasks a coordinator holds back until it decides (a join's continuation, a sync point's dependents). */
export const heldOf = (view: CoordinatorView): string[] =>
  view.kind === 'join' || view.kind === 'sync' ? view.held : [];
