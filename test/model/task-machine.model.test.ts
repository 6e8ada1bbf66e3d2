import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { RetryPolicy } from '../../src/core/machines/retry-backoff.js';
import { attemptsInBudget, taskMachine, taskStatusOf } from '../../src/core/machines/task-machine.js';
import type {
  AttemptError,
  TaskContext,
  TaskEvent,
  TaskInput,
  TaskStatus,
  TaskTimeouts,
} from '../../src/core/machines/task-types.js';
import {
  check,
  checkEffectKinds,
  checkEqual,
  latest,
  only,
  runModel,
  sample,
  type Effect,
  type ModelConfig,
  type SnapshotOf,
  type StepRecord,
  describeModelRuns,
} from './helpers.js';

type Snap = SnapshotOf<TaskContext>;
type TimerName = 'start' | 'finish' | 'heartbeat';

const RAND = 0.75;
const SETTLED: ReadonlySet<TaskStatus> = new Set(['succeeded', 'dead_lettered', 'cancelled', 'skipped', 'discarded']);

const input = (over: Partial<TaskInput> & { retry: RetryPolicy; timeouts: TaskTimeouts }): TaskInput => ({
  id: 'task-1',
  type: 'implement',
  description: 'write the parser',
  priority: 50,
  requires: ['code'],
  dependsOn: [],
  satisfiedDeps: [],
  phaseOpen: true,
  now: 10_000,
  ...over,
});

const transient: AttemptError = {
  message: 'flaky network',
  category: 'transient',
  code: 'E_TASK_FAILED',
  retryable: true,
};
const permanent: AttemptError = {
  message: 'bad spec',
  category: 'permanent',
  code: 'E_NON_RETRYABLE',
  retryable: false,
};

/** Latest instant the context mentions (retryAt is a future deadline, not a past instant). */
function clockOf(c: TaskContext): number {
  const times = [c.spec.createdAt, c.at.queuedAt, c.at.startedAt, c.at.lastBeatAt, c.at.settledAt, c.lease?.assignedAt];
  for (const a of c.attempts) times.push(a.assignedAt, a.startedAt, a.endedAt);
  return latest(...times);
}

function deadlineOf(c: TaskContext, name: TimerName): number | null {
  const limit = c.spec.timeouts[name];
  const from = name === 'start' ? c.at.queuedAt : name === 'finish' ? c.at.startedAt : c.at.lastBeatAt;
  return limit === undefined || from === null ? null : from + limit;
}

function events(snapshot: AnyMachineSnapshot): EventObject[] {
  const c = (snapshot as Snap).context;
  const t = clockOf(c);
  const now = t + 1;
  const lease = c.lease?.id;
  const list: TaskEvent[] = [
    sample('dep:succeeded:other', { type: 'task.dependency.succeeded', taskId: 'unrelated', now }),
    sample('dep:failed', {
      type: 'task.dependency.failed',
      taskId: c.pendingDeps[0] ?? 'unrelated',
      status: 'dead_lettered',
      now,
    }),
    sample('phase:opened', { type: 'task.phase.opened', now }),
    sample('assign:offer', {
      type: 'task.assign',
      agentId: 'agent-1',
      leaseId: `lease-${c.round}.${c.attempt + 1}@${now}`,
      autoStart: false,
      now,
    }),
    sample('assign:start', {
      type: 'task.assign',
      agentId: 'agent-1',
      leaseId: `lease-${c.round}.${c.attempt + 1}@${now}`,
      autoStart: true,
      now,
    }),
    sample('accept:stale', { type: 'task.accept', leaseId: 'lease-stale', now }),
    sample('reject:stale', { type: 'task.reject', leaseId: 'lease-stale', reason: 'busy', now }),
    sample('heartbeat:stale', { type: 'task.heartbeat', leaseId: 'lease-stale', now }),
    sample('progress:stale', { type: 'task.progress', leaseId: 'lease-stale', value: 0.5, message: 'half', now }),
    sample('complete:stale', {
      type: 'task.complete',
      leaseId: 'lease-stale',
      result: 'late',
      artifacts: {},
      quality: 1,
      now,
    }),
    sample('fail:stale', { type: 'task.fail', leaseId: 'lease-stale', error: transient, rand: RAND, now }),
    sample('agent_lost:other', { type: 'task.agent_lost', agentId: 'agent-9', rand: RAND, now }),
    sample('timer:unknown', { type: 'timer', name: 'bogus', rand: RAND, now }),
    sample('cancel', { type: 'task.cancel', reason: 'user cancelled', now }),
    sample('skip', { type: 'task.skip', reason: 'not needed any more', now }),
    sample('rework:ready', { type: 'task.rework', feedback: 'add tests', round: c.round + 1, waitFor: [], now }),
  ];
  const first = c.pendingDeps[0];
  if (first !== undefined)
    list.push(sample('dep:succeeded:pending', { type: 'task.dependency.succeeded', taskId: first, now }));
  const dep = c.spec.dependsOn[0];
  if (dep !== undefined) {
    list.push(
      sample('rework:wait', { type: 'task.rework', feedback: 'add tests', round: c.round + 1, waitFor: [dep], now }),
    );
  }
  if (lease !== undefined) {
    list.push(
      sample('accept:own', { type: 'task.accept', leaseId: lease, now }),
      sample('reject:own', { type: 'task.reject', leaseId: lease, reason: 'busy', now }),
      sample('heartbeat:own', { type: 'task.heartbeat', leaseId: lease, now }),
      sample('progress:own', { type: 'task.progress', leaseId: lease, value: 0.5, message: 'half way', now }),
      sample('complete:own', {
        type: 'task.complete',
        leaseId: lease,
        result: { lines: 120 },
        artifacts: { 'parser.ts': 'src/parser.ts' },
        quality: 0.8,
        now,
      }),
      sample('fail:retryable', { type: 'task.fail', leaseId: lease, error: transient, rand: RAND, now }),
      sample('fail:permanent', { type: 'task.fail', leaseId: lease, error: permanent, rand: RAND, now }),
      sample('agent_lost:holder', { type: 'task.agent_lost', agentId: c.lease!.agentId, rand: RAND, now }),
    );
  }
  for (const name of ['start', 'finish', 'heartbeat'] as const) {
    const deadline = deadlineOf(c, name);
    if (deadline === null) continue;
    list.push(sample(`timer:${name}:due`, { type: 'timer', name, rand: RAND, now: Math.max(deadline, t) }));
    // Fired before the deadline the context knows (it moved after the timer was armed).
    if (deadline - 1 >= t)
      list.push(sample(`timer:${name}:early`, { type: 'timer', name, rand: RAND, now: deadline - 1 }));
  }
  if (c.at.retryAt !== null)
    list.push(sample('timer:retry', { type: 'timer', name: 'retry', rand: RAND, now: Math.max(c.at.retryAt, t) }));
  if (c.at.notBefore !== null) {
    list.push(
      sample('timer:notBefore:due', { type: 'timer', name: 'notBefore', rand: RAND, now: Math.max(c.at.notBefore, t) }),
    );
    if (c.at.notBefore - 1 >= t)
      list.push(
        sample('timer:notBefore:early', { type: 'timer', name: 'notBefore', rand: RAND, now: c.at.notBefore - 1 }),
      );
  }
  list.push(
    sample('redrive', { type: 'task.redrive', reason: null, now }),
    sample('redrive:changed', {
      type: 'task.redrive',
      input: { fixed: true },
      retry: exact(3),
      reason: 'provider back',
      now,
    }),
  );
  list.push(sample('discard', { type: 'task.discard', reason: 'retention', now }));
  return list;
}

const key = (snapshot: AnyMachineSnapshot): string => {
  const c = (snapshot as Snap).context;
  return JSON.stringify([
    snapshot.value,
    // Attempts count in the key since the last redrive only: a second redrive leads back to keys seen.
    attemptsInBudget(c),
    c.pendingDeps.length,
    c.phaseOpen,
    c.lease !== null,
    c.error === null ? null : c.error.retryable,
    c.round > 1,
    Math.min(c.redrives.length, 1),
    c.at.notBefore !== null,
    // A heartbeat came after the start: the heartbeat deadline has moved past its timer.
    c.spec.timeouts.heartbeat !== undefined && c.at.lastBeatAt !== null && c.at.lastBeatAt !== c.at.startedAt,
  ]);
};

// ---------------------------------------------------------------------------------------------
// The oracle

const statusOf = (s: { value: unknown }): TaskStatus => taskStatusOf(s.value);
const leased = (s: TaskStatus) => s === 'offered' || s === 'running';

/** Backoff worked out here, apart from backoffDelay. */
function expectedDelay(retry: RetryPolicy, failedAttempt: number, rand: number): number {
  const { baseMs, factor, capMs, jitter } = retry.backoff;
  let d = baseMs;
  for (let i = 1; i < failedAttempt; i++) d *= factor;
  return Math.round(Math.min(d, capMs) * (1 - jitter * rand));
}

function invariants(step: StepRecord<TaskContext>): void {
  const s = step.next as Snap;
  const c = s.context;
  const status = statusOf(s);
  const T = c.spec.timeouts;
  check(status !== ('attemptFailed' as TaskStatus), 'rests in the transient attemptFailed');
  // Attempts: one record per attempt counted, numbered in order, all closed but a live lease's.
  checkEqual(c.attempts.length, c.attempt, 'attempts recorded vs attempt count');
  c.attempts.forEach((a, i) => checkEqual(a.attempt, i + 1, `number of attempt record ${i}`));
  c.attempts.forEach((a, i) => {
    const open = leased(status) && i === c.attempts.length - 1;
    check(
      open === (a.endedAt === undefined),
      () => `attempt ${a.attempt} ${open ? 'closed' : 'still open'} while ${status}`,
    );
  });
  check(
    attemptsInBudget(c) <= c.spec.retry.maxAttempts,
    `attempt ${c.attempt} beyond ${c.spec.retry.maxAttempts} since the last redrive`,
  );
  // The lease exists exactly while an agent holds the task, and is the last attempt's.
  check((c.lease !== null) === leased(status), () => `lease ${JSON.stringify(c.lease)} while ${status}`);
  if (c.lease) {
    const last = c.attempts[c.attempts.length - 1];
    checkEqual([last?.leaseId, last?.agentId], [c.lease.id, c.lease.agentId], 'lease vs last attempt');
  }
  check((c.at.retryAt !== null) === (status === 'retrying'), () => `retryAt ${c.at.retryAt} while ${status}`);
  checkEqual(s.hasTag('settled'), SETTLED.has(status), 'settled tag');
  checkEqual(c.outcome, SETTLED.has(status) ? status : null, 'outcome');
  checkEqual(c.at.settledAt !== null, SETTLED.has(status), 'settledAt set iff settled');
  if (status === 'waiting')
    check(!(c.phaseOpen && c.pendingDeps.length === 0 && c.at.notBefore === null), 'waiting while ready');
  if (status === 'queued' || leased(status)) check(c.at.queuedAt !== null, 'queued without queuedAt');
  if (status === 'running') {
    check(c.at.startedAt !== null && c.at.lastBeatAt !== null && c.at.lastBeatAt >= c.at.startedAt, 'running times');
    checkEqual(c.attempts[c.attempts.length - 1]?.startedAt, c.at.startedAt, 'startedAt of the running attempt');
  }
  if (status === 'retrying')
    check(
      c.error?.retryable === true && attemptsInBudget(c) < c.spec.retry.maxAttempts,
      'retrying without a retry left',
    );
  if (status === 'dead_lettered') {
    check(
      c.error !== null && (!c.error.retryable || attemptsInBudget(c) >= c.spec.retry.maxAttempts),
      'dead-lettered with a retry left',
    );
  }
  if (status === 'discarded') check(typeof c.reason === 'string', 'discarded without reason');
  if (status === 'succeeded') check(c.output !== null && c.error === null, 'succeeded without output');
  if (status === 'cancelled' || status === 'skipped') check(typeof c.reason === 'string', `${status} without reason`);

  // Durable timers, as the host would hold them after this step.
  const timers = step.timers;
  const armed = (name: string, at: number | null) => {
    check(
      at !== null && timers.get(name) === at,
      () => `${name} timer at ${timers.get(name)}, expected ${at} while ${status}`,
    );
  };
  const unarmed = (...names: string[]) => {
    for (const n of names) check(timers.get(n) === undefined, `${n} timer still armed while ${status}`);
  };
  if (status === 'waiting')
    checkEqual(timers.names(), c.at.notBefore !== null ? ['notBefore'] : [], `timers armed while ${status}`);
  if (status === 'waiting' && c.at.notBefore !== null) armed('notBefore', c.at.notBefore);
  if (SETTLED.has(status)) checkEqual(timers.names(), [], `timers armed while ${status}`);
  if (status === 'queued' || status === 'offered') {
    if (T.start !== undefined) armed('start', deadlineOf(c, 'start'));
    unarmed('finish', 'heartbeat', 'retry', ...(T.start === undefined ? ['start'] : []));
  }
  if (status === 'running') {
    if (T.finish !== undefined) armed('finish', deadlineOf(c, 'finish'));
    if (T.heartbeat !== undefined) {
      const at = timers.get('heartbeat');
      check(
        at !== undefined && at >= c.at.startedAt! + T.heartbeat && at <= c.at.lastBeatAt! + T.heartbeat,
        () =>
          `heartbeat timer at ${at} outside [${c.at.startedAt! + T.heartbeat!}, ${c.at.lastBeatAt! + T.heartbeat!}]`,
      );
    }
    unarmed(
      'start',
      'retry',
      ...(T.finish === undefined ? ['finish'] : []),
      ...(T.heartbeat === undefined ? ['heartbeat'] : []),
    );
  }
  if (status === 'retrying') {
    armed('retry', c.at.retryAt);
    // A start timer armed before an offer was lost may linger: it fires as a no-op.
    unarmed('finish', 'heartbeat');
  }
}

interface Prediction {
  status: TaskStatus;
  /** Effects apart from emits and timers, which are checked through the timer table. */
  effects: string[];
  /** The attempt that failed, when this step records a failure. */
  failure?: { error: Partial<AttemptError>; attempt: number };
}

/** What a transition into `status` asks for, entering through waiting/queued as the machine must. */
function enter(status: TaskStatus, c: TaskContext, p: Prediction): void {
  p.status = status;
  if (status === 'waiting') {
    p.effects.push('registerWaiting');
    if (c.phaseOpen && c.pendingDeps.length === 0 && c.at.notBefore === null) enter('queued', c, p);
  } else if (status === 'queued') p.effects.push('enqueue');
  // A discarded dead letter tells nobody again: its settlement was reported when it was dead-lettered.
  else if (SETTLED.has(status) && status !== 'discarded') p.effects.push('settled');
}

function leave(from: TaskStatus, e: TaskEvent, p: Prediction): void {
  if (from === 'queued') p.effects.push('dequeue');
  if (leased(from)) {
    p.effects.push('releaseSlot');
    if (e.type !== 'task.complete' && e.type !== 'task.fail' && e.type !== 'task.reject') p.effects.push('revoke');
  }
}

/** The independent reference: what `e` must do to a task in `from` with context `c`, or null to ignore it. */
function predict(from: TaskStatus, c: TaskContext, e: TaskEvent): Prediction | null {
  const p: Prediction = { status: from, effects: [] };
  // The retry budget counts from the last redrive.
  const A = c.spec.retry.maxAttempts + (c.redrives[c.redrives.length - 1]?.afterAttempt ?? 0);
  const ownLease = 'leaseId' in e && c.lease !== null && e.leaseId === c.lease.id;
  const fail = (error: Partial<AttemptError> & { retryable: boolean }, attempt: number) => {
    leave(from, e, p);
    p.failure = { error, attempt };
    enter(error.retryable && attempt < A ? 'retrying' : 'dead_lettered', c, p);
    return p;
  };
  const timerDue = (name: TimerName) => {
    const d = deadlineOf(c, name);
    return e.type === 'timer' && e.name === name && d !== null && e.now >= d;
  };
  if (e.type === 'task.cancel' && from !== 'cancelled' && !SETTLED.has(from)) {
    leave(from, e, p);
    enter('cancelled', c, p);
    return p;
  }
  switch (from) {
    case 'waiting': {
      const policy =
        e.type === 'task.dependency.failed' ? (c.spec.controls.onDependencyFailure?.[e.taskId] ?? 'skip') : null;
      if (e.type === 'task.dependency.succeeded' || policy === 'continue') {
        const pending = c.pendingDeps.filter((d) => d !== (e as { taskId: string }).taskId);
        if (c.phaseOpen && pending.length === 0 && c.at.notBefore === null) enter('queued', c, p);
        return p;
      }
      if (policy === 'fail') return (enter('dead_lettered', c, p), p);
      if (e.type === 'task.phase.opened') {
        if (c.pendingDeps.length === 0 && c.at.notBefore === null) enter('queued', c, p);
        return p;
      }
      if (e.type === 'timer' && e.name === 'notBefore' && c.at.notBefore !== null && e.now >= c.at.notBefore) {
        if (c.phaseOpen && c.pendingDeps.length === 0) enter('queued', c, p);
        return p;
      }
      if (e.type === 'task.dependency.failed' || e.type === 'task.skip') return (enter('skipped', c, p), p);
      return null;
    }
    case 'queued':
      if (e.type === 'task.assign') {
        leave(from, e, p);
        p.effects.push('offer');
        p.status = e.autoStart ? 'running' : 'offered';
        return p;
      }
      if (timerDue('start')) return fail({ category: 'timeout', timeout: 'start', retryable: true }, c.attempt + 1);
      if (e.type === 'task.skip') return (leave(from, e, p), enter('skipped', c, p), p);
      return null;
    case 'offered':
    case 'running':
      if (e.type === 'task.agent_lost' && e.agentId === c.lease?.agentId) {
        return fail({ category: 'agent-lost', code: 'E_AGENT_LOST', retryable: true }, c.attempt);
      }
      if (from === 'offered') {
        if (e.type === 'task.accept' && ownLease) return ((p.status = 'running'), p);
        if (e.type === 'task.reject' && ownLease) return (leave(from, e, p), enter('queued', c, p), p);
        if (timerDue('start')) return fail({ category: 'timeout', timeout: 'start', retryable: true }, c.attempt);
        return null;
      }
      if ((e.type === 'task.heartbeat' || e.type === 'task.progress') && ownLease) return p;
      if (e.type === 'task.complete' && ownLease) return (leave(from, e, p), enter('succeeded', c, p), p);
      if (e.type === 'task.fail' && ownLease) return fail(e.error, c.attempt);
      if (timerDue('finish')) return fail({ category: 'timeout', timeout: 'finish', retryable: true }, c.attempt);
      if (timerDue('heartbeat')) return fail({ category: 'timeout', timeout: 'heartbeat', retryable: true }, c.attempt);
      if (e.type === 'timer' && e.name === 'heartbeat') return p; // re-armed at the moved deadline
      return null;
    case 'retrying':
      if (e.type === 'timer' && e.name === 'retry') return (enter('queued', c, p), p);
      if (e.type === 'task.skip') return (enter('skipped', c, p), p);
      return null;
    case 'dead_lettered':
      if (e.type === 'task.redrive') return (enter('queued', c, p), p);
      if (e.type === 'task.discard') return (enter('discarded', c, p), p);
      if (e.type !== 'task.rework') return null;
      enter('waiting', { ...c, pendingDeps: e.waitFor, at: { ...c.at, notBefore: null } }, p);
      return p;
    case 'succeeded':
    case 'skipped':
      if (e.type !== 'task.rework') return null;
      enter('waiting', { ...c, pendingDeps: e.waitFor, at: { ...c.at, notBefore: null } }, p);
      return p;
    default:
      return null;
  }
}

function checkParams(
  step: StepRecord<TaskContext>,
  p: TaskContext | null,
  e: TaskEvent | null,
  predicted: Prediction,
): void {
  const c = (step.next as Snap).context;
  const fx: readonly Effect[] = step.effects;
  const now = e?.now ?? c.spec.createdAt;
  const has = (t: string) => predicted.effects.includes(t);
  if (has('registerWaiting')) {
    checkEqual(
      only(fx, 'registerWaiting'),
      {
        taskId: c.id,
        pendingDeps: e?.type === 'task.rework' ? e.waitFor : c.pendingDeps,
        phaseOpen: c.phaseOpen,
        ticketId: c.spec.ticketId,
        phase: c.spec.phase,
      },
      'registerWaiting',
    );
  }
  if (has('enqueue')) {
    checkEqual(
      only(fx, 'enqueue'),
      {
        taskId: c.id,
        priority: c.spec.priority,
        requires: c.spec.requires,
        queuedAt: now,
        type: c.spec.type,
        controls: c.spec.controls,
      },
      'enqueue',
    );
    checkEqual(c.at.queuedAt, now, 'queuedAt');
  }
  if (has('dequeue')) checkEqual(only(fx, 'dequeue'), { taskId: c.id }, 'dequeue');
  if (has('offer') && e?.type === 'task.assign') {
    checkEqual(
      only(fx, 'offer'),
      { taskId: c.id, agentId: e.agentId, leaseId: e.leaseId, attempt: (p?.attempt ?? 0) + 1, autoStart: e.autoStart },
      'offer',
    );
    checkEqual(c.lease, { id: e.leaseId, agentId: e.agentId, assignedAt: now }, 'lease');
    const record = { attempt: c.attempt, agentId: e.agentId, leaseId: e.leaseId, assignedAt: now };
    checkEqual(c.attempts[c.attempts.length - 1], e.autoStart ? { ...record, startedAt: now } : record, 'new attempt');
  }
  if (p?.lease) {
    const holder = p.lease;
    if (has('releaseSlot'))
      checkEqual(only(fx, 'releaseSlot'), { agentId: holder.agentId, taskId: c.id }, 'releaseSlot');
    if (has('revoke')) {
      const reason =
        e?.type === 'task.cancel' ? e.reason : e?.type === 'timer' ? `${e.name} deadline passed` : 'agent lost';
      checkEqual(only(fx, 'revoke'), { taskId: c.id, agentId: holder.agentId, leaseId: holder.id, reason }, 'revoke');
    }
  }
  if (has('settled')) {
    const lastAgent = c.attempts[c.attempts.length - 1]?.agentId || null;
    checkEqual(
      only(fx, 'settled'),
      {
        taskId: c.id,
        status: predicted.status,
        ticketId: c.spec.ticketId,
        phase: c.spec.phase,
        role: c.spec.role,
        agentId: lastAgent,
      },
      'settled',
    );
    checkEqual(c.at.settledAt, now, 'settledAt');
  }
  if (predicted.failure) {
    const { error, attempt } = predicted.failure;
    for (const [k, v] of Object.entries(error)) checkEqual(c.error?.[k as keyof AttemptError], v, `error.${k}`);
    const record = c.attempts[attempt - 1];
    checkEqual([record?.endedAt, record?.error], [now, c.error], 'the failed attempt is closed with its error');
    if (predicted.status === 'retrying') {
      const at = now + expectedDelay(c.spec.retry, attempt, (e as { rand: number }).rand);
      checkEqual(c.at.retryAt, at, 'retryAt');
      checkEqual(step.timers.get('retry'), at, 'retry timer');
    }
  }
}

function oracle(step: StepRecord<TaskContext>): void {
  invariants(step);
  const next = step.next as Snap;
  const c = next.context;
  if (step.prev === null) {
    const given = step.input as TaskInput;
    checkEqual(
      [
        c.id,
        c.spec.dependsOn,
        c.spec.timeouts,
        c.spec.retry,
        c.spec.createdAt,
        c.spec.role,
        c.spec.ticketId,
        c.spec.phase,
      ],
      [
        given.id,
        given.dependsOn,
        given.timeouts,
        given.retry,
        given.now,
        given.role ?? null,
        given.ticketId ?? null,
        given.phase ?? null,
      ],
      'spec from the input',
    );
    checkEqual(
      c.pendingDeps,
      given.dependsOn.filter((d) => !given.satisfiedDeps.includes(d)),
      'pendingDeps at creation',
    );
    checkEqual([c.attempt, c.round, c.lease, c.error, c.output], [0, 1, null, null, null], 'fresh task');
    const p: Prediction = { status: 'waiting', effects: [] };
    enter('waiting', c, p);
    checkEqual(statusOf(next), p.status, 'initial status');
    checkEffectKinds(step.effects, p.effects, { emits: false, timers: false });
    checkParams(step, null, null, p);
    return;
  }
  const prev = step.prev as Snap;
  const pc = prev.context;
  const e = step.event as TaskEvent;
  const predicted = predict(statusOf(prev), pc, e);
  if (predicted === null) {
    check(!step.changed, () => `${e.type} should have been ignored while ${statusOf(prev)}`);
    return;
  }
  check(step.changed, () => `${e.type} was ignored while ${statusOf(prev)}`);
  checkEqual(statusOf(next), predicted.status, `status after ${step.label} while ${statusOf(prev)}`);
  checkEffectKinds(step.effects, predicted.effects, { emits: false, timers: false });
  checkParams(step, pc, e, predicted);
  // Context changes that are not effects.
  switch (e.type) {
    case 'task.dependency.succeeded':
      checkEqual(
        c.pendingDeps,
        pc.pendingDeps.filter((d) => d !== e.taskId),
        'pendingDeps',
      );
      break;
    case 'task.phase.opened':
      checkEqual(c.phaseOpen, true, 'phaseOpen');
      break;
    case 'task.dependency.failed': {
      const policy = pc.spec.controls.onDependencyFailure?.[e.taskId] ?? 'skip';
      if (policy === 'continue')
        checkEqual([c.pendingDeps, c.reason], [pc.pendingDeps.filter((d) => d !== e.taskId), null], 'ignored failure');
      else checkEqual(c.reason, `dependency ${e.taskId} ended ${e.status}`, 'reason');
      if (policy === 'fail')
        checkEqual(
          [c.error?.code, c.error?.retryable, c.attempt],
          ['E_DEPENDENCY_FAILED', false, 0],
          'failed by its dependency',
        );
      break;
    }
    case 'task.redrive': {
      const r = c.redrives[c.redrives.length - 1];
      checkEqual(
        [
          c.redrives.length,
          r?.afterAttempt,
          r?.error,
          r?.inputChanged,
          r?.retryChanged,
          r?.reason,
          c.error,
          c.attempts,
        ],
        [
          pc.redrives.length + 1,
          pc.attempt,
          pc.error,
          e.input !== undefined,
          e.retry !== undefined,
          e.reason,
          null,
          pc.attempts,
        ],
        'redriven with its history',
      );
      checkEqual([c.spec.input, c.spec.retry], [e.input ?? pc.spec.input, e.retry ?? pc.spec.retry], 'redrive changes');
      break;
    }
    case 'task.discard':
      checkEqual([c.reason, c.attempts], [e.reason, pc.attempts], 'discarded');
      break;
    case 'task.cancel':
    case 'task.skip':
      checkEqual(c.reason, e.reason, 'reason');
      break;
    case 'task.reject':
      checkEqual(
        [c.attempt, c.attempts],
        [pc.attempt - 1, pc.attempts.slice(0, -1)],
        'a rejected offer does not count',
      );
      break;
    case 'task.heartbeat':
      checkEqual(c.at.lastBeatAt, e.now, 'lastBeatAt');
      break;
    case 'task.progress':
      checkEqual([c.at.lastBeatAt, c.progress], [e.now, { value: e.value, message: e.message }], 'progress');
      break;
    case 'task.complete':
      checkEqual(c.output, { result: e.result, artifacts: e.artifacts, quality: e.quality }, 'output');
      checkEqual(c.attempts[c.attempts.length - 1]?.endedAt, e.now, 'completed attempt closed');
      break;
    case 'task.accept':
      checkEqual([c.at.startedAt, c.at.lastBeatAt], [e.now, e.now], 'started');
      break;
    case 'timer':
      if (predicted.status === 'running') {
        // The heartbeat timer fired before the moved deadline: armed again at it.
        checkEqual(
          only(step.effects, 'setTimer'),
          { name: 'heartbeat', at: pc.at.lastBeatAt! + pc.spec.timeouts.heartbeat! },
          'heartbeat re-armed',
        );
      }
      break;
    case 'task.rework':
      checkEqual([c.round, c.feedback, c.attempt, c.output, c.error], [e.round, e.feedback, 0, null, null], 'reworked');
      break;
  }
  if (statusOf(prev) === 'running' && predicted.status === 'running' && e.type !== 'timer') {
    check(
      !step.effects.some((x) => x.type === 'setTimer' || x.type === 'clearTimer'),
      'timers touched by a report while running',
    );
  }
}

const exact = (maxAttempts: number): RetryPolicy => ({
  maxAttempts,
  backoff: { baseMs: 1_000, factor: 2, capMs: 60_000, jitter: 0 },
});
const allTimeouts: TaskTimeouts = { start: 500, finish: 5_000, heartbeat: 2_000 };

const configs: ModelConfig[] = [
  {
    name: 'ready at once, no deadlines, 2 attempts',
    input: input({ retry: exact(2), timeouts: {} }),
    events,
    key,
  },
  {
    name: 'two deps and a closed phase, every deadline, 2 attempts',
    input: input({
      dependsOn: ['dep-a', 'dep-b'],
      ticketId: 'T1',
      phase: 'build',
      phaseOpen: false,
      retry: exact(2),
      timeouts: allTimeouts,
    }),
    events,
    key,
  },
  {
    name: 'one attempt, every deadline, dependency already met',
    input: input({
      dependsOn: ['dep-a'],
      satisfiedDeps: ['dep-a'],
      role: 'validator',
      retry: exact(1),
      timeouts: allTimeouts,
    }),
    events,
    key,
  },
  {
    name: 'delayed, a dependency that may fail and one whose failure fails it, 1 attempt',
    input: input({
      dependsOn: ['dep-a', 'dep-b'],
      controls: { onDependencyFailure: { 'dep-a': 'continue', 'dep-b': 'fail' } },
      notBefore: 20_000,
      retry: exact(1),
      timeouts: {},
    }),
    events,
    key,
  },
  {
    name: '3 attempts, capped jittered backoff, finish deadline',
    input: input({
      retry: { maxAttempts: 3, backoff: { baseMs: 100, factor: 3, capMs: 250, jitter: 0.5 } },
      timeouts: { finish: 1_000 },
    }),
    events,
    key,
  },
];

describe('task machine, model-based', () => {
  describeModelRuns<TaskContext>('task', taskMachine, configs, oracle);

  it('the oracle catches a machine that takes reports about a stale lease', () => {
    const broken = taskMachine.provide({ guards: { leaseMatches: () => true } });
    const r = runModel<TaskContext>(broken, configs[0]!, oracle, null, { stopAtFirstFailure: true });
    expect(r.failures.length).toBeGreaterThan(0);
  });
});
