import { majorityVote } from '../../../core/coordination/merge-strategies.js';
import { readPath } from '../../../core/canonical-json.js';
import type { StepWork } from '../compile/work.js';

/**
 * A step whose own tasks are decided together (voters, reviewers) keeps a group: the tasks and
 * how each one ended. Deciding a group is pure; the driver feeds it settlements and acts on the
 * verdict. Votes use the coordination merge's plurality vote, with the tie rule it states.
 * (Joins and sync points are coordination join coordinators: see `coordinated-steps.ts`.)
 */

export interface Settled {
  status: string;
  result: unknown;
  artifacts: Record<string, unknown>;
  error: string | null;
}

export interface Group {
  runId: string;
  step: string;
  kind: 'vote' | 'review';
  ids: string[];
  settled: Map<number, Settled>;
  /** Set once the verdict has been acted on: later settlements change nothing. */
  decided: boolean;
}

export type Verdict =
  | { kind: 'pending' }
  | { kind: 'failed'; reason: string }
  | { kind: 'winner'; value: unknown }
  | { kind: 'tie' }
  | { kind: 'approved' }
  | { kind: 'rejected'; feedback: string };

export function newGroup(runId: string, work: Extract<StepWork, { kind: 'vote' | 'review' }>, ids: string[]): Group {
  return { runId, step: work.step, kind: work.kind, ids, settled: new Map(), decided: false };
}

/** Records how one member ended (once: a second report of the same member is ignored). */
export function settleMember(group: Group, index: number, outcome: Settled): void {
  if (!group.settled.has(index)) group.settled.set(index, outcome);
}

/** What the group's settlements decide: nothing until every member has ended. */
export function decideGroup(group: Group, work: StepWork): Verdict {
  if (group.settled.size < group.ids.length) return { kind: 'pending' };
  const all = group.ids.map((_, i) => group.settled.get(i) as Settled);
  if (work.kind === 'vote') return countVotes(all, work.field);
  if (work.kind === 'review') return reviewVerdict(all, work.approval);
  return { kind: 'pending' };
}

function countVotes(ballots: Settled[], field: string | null): Verdict {
  const inputs = ballots.flatMap((b, i) => {
    if (b.status !== 'succeeded') return [];
    const choice = field === null ? { found: true as const, value: b.result } : readPath(b.result, field);
    return choice.found ? [{ sourceId: `voter ${i}`, result: choice.value }] : [];
  });
  if (inputs.length === 0) return { kind: 'failed', reason: `no voter gave a choice${field ? ` in "${field}"` : ''}` };
  const vote = majorityVote(inputs);
  return vote.tie ? { kind: 'tie' } : { kind: 'winner', value: vote.value };
}

function reviewVerdict(reviews: Settled[], approval: 'all' | 'any' | 'majority'): Verdict {
  const broken = reviews.find((r) => r.status !== 'succeeded');
  if (broken) return { kind: 'failed', reason: `a reviewer did not finish: ${broken.error ?? broken.status}` };
  const verdicts = reviews.map((r) => {
    const result = r.result as { approved?: unknown; feedback?: unknown } | null;
    return {
      approved: result?.approved === true,
      feedback: typeof result?.feedback === 'string' ? result.feedback : null,
    };
  });
  const yes = verdicts.filter((v) => v.approved).length;
  const approved =
    approval === 'all' ? yes === verdicts.length : approval === 'any' ? yes > 0 : yes * 2 > verdicts.length;
  if (approved) return { kind: 'approved' };
  // The feedback of every reviewer who said no, merged in reviewer order, goes to the next round.
  const feedback = verdicts
    .map((v, i) => (v.approved ? null : (v.feedback ?? `reviewer ${i} did not approve`)))
    .filter((f): f is string => f !== null)
    .join('\n');
  return { kind: 'rejected', feedback };
}
