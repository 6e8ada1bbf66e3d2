import { taskSpecSchema } from '../format/common.js';
import { refList, type RoutingRule, type Step } from '../format/steps.js';
import { lazyLocate, locate } from '../load/source.js';
import { substitute, WHOLE_VARIABLE_RE, type VariableIssue } from '../load/variables.js';
import { zodProblems } from '../load/zod-problems.js';
import { problem } from '../problems/problems.js';
import { OTHERWISE, routeLabel, timerName, type PatternEvent } from './protocol.js';
import { resolveTarget, stepAfter, stepMeta, type StepContext, needsOf } from './step-context.js';
import {
  deadline,
  emit,
  failureTransition,
  isStep,
  qualify,
  recordFailure,
  runStep,
  stepPath,
  timeoutTransition,
  type StateConfig,
  type StepMeta,
  type TransitionConfig,
} from './state-kit.js';
import { taskWork, type StepWork, type TaskWork } from './work.js';

/**
 * Builders for the steps that are one state each: task, split, join, sync, merge, vote,
 * branch and wait. Each registers its work, lists the events that can reach it (for test
 * paths) and returns its state with the success, failure and timeout transitions.
 */

type Extra = { on?: StateConfig['on']; awaits?: StepMeta['awaits']; failure?: boolean; meta?: Partial<StepMeta> };

function atomicState(c: StepContext, work: StepWork, extra: Extra = {}): StateConfig {
  const { out } = c.scope;
  out.works.set(c.qid, work);
  const awaits = extra.awaits ?? ['step.done'];
  const timer = deadline(c.qid, c.deadlineMs);
  const on: StateConfig['on'] = { ...extra.on };
  if (awaits.includes('step.done')) {
    on['step.done'] = [
      {
        guard: isStep(c.qid),
        target: c.success,
        actions: [{ type: 'recordResult', params: { step: c.qid } }, emit('pattern.step.completed', { step: c.qid })],
      },
    ];
    out.events.push({ type: 'step.done', step: c.qid });
  }
  if (extra.failure !== false) {
    on['step.failed'] = [failureTransition(c.qid, c.qid, c.failure)];
    out.events.push({ type: 'step.failed', step: c.qid, reason: 'scripted failure' });
  }
  if (c.deadlineMs !== null) {
    on.timer = [timeoutTransition(c.qid, c.timeout)];
    out.events.push({ type: 'timer', name: timerName(c.qid) });
  }
  return {
    id: c.qid,
    entry: [emit('pattern.step.started', { step: c.qid }), ...timer.entry, runStep(c.qid)],
    exit: timer.exit,
    on,
    meta: stepMeta(c, work, { awaits, ...extra.meta }),
    tags: ['step'],
    ...(c.step.description !== undefined ? { description: c.step.description } : {}),
  };
}

export function taskState(c: StepContext & { step: Extract<Step, { task: unknown }> }): StateConfig {
  return atomicState(c, { kind: 'task', step: c.qid, ...needsOf(c), task: taskWork(c.step.task, c.step) });
}

export function splitState(c: StepContext & { step: Extract<Step, { split: unknown }> }): StateConfig {
  const { split } = c.step;
  const base = { kind: 'split' as const, step: c.qid, ...needsOf(c) };
  let tasks: TaskWork[] | null = null;
  let count: number | null = null;
  let over: Extract<StepWork, { kind: 'split' }>['over'] = null;
  if (split.tasks) tasks = split.tasks.map((t) => taskWork(t, c.step));
  else if (split.count !== undefined && split.task)
    tasks = Array.from({ length: split.count }, () => taskWork(split.task!, c.step));
  else if (Array.isArray(split.over) && split.task) tasks = expandOver(c, split.over, split.task, split.as ?? 'item');
  else if (split.over && !Array.isArray(split.over) && split.task) {
    over = {
      from: qualify(c.scope, split.over.from),
      path: split.over.path ?? null,
      as: split.as ?? 'item',
      template: split.task,
      requires: c.step.requires ?? [],
      ...(c.step.retry ? { retry: c.step.retry } : {}),
    };
  }
  if (tasks !== null && !fromPlaceholder(c)) count = tasks.length;
  // Children known at compile time are created at once and cannot fail to be; a split over a
  // result can (the list may be missing).
  const known = over === null;
  return atomicState(
    c,
    { ...base, tasks, over },
    { failure: !known, meta: { count, split: true, ...(known ? { instant: true as const } : {}) } },
  );
}

/** True when the split's list is an input that has only a stand-in value (its size is unknown). */
function fromPlaceholder(c: StepContext): boolean {
  const node = c.scope.source.doc.getIn([...stepPath(c.index, 'split', 'over')]);
  const match = typeof node === 'string' ? WHOLE_VARIABLE_RE.exec(node) : null;
  return match !== null && c.scope.placeholders.has((match[1] as string).split('.')[0] as string);
}

/** One task per item, the loop variables substituted into a copy of the template. */
function expandOver(c: StepContext, items: unknown[], template: unknown, as: string): TaskWork[] {
  const at = stepPath(c.index, 'split', 'task');
  const out: TaskWork[] = [];
  items.forEach((item, index) => {
    const issues: VariableIssue[] = [];
    const spec = substitute(
      template,
      {
        values: new Map<string, unknown>([
          [as, item],
          ['index', index],
        ]),
      },
      issues,
    );
    for (const i of issues)
      c.scope.out.problems.push(
        problem(i.code, locate(c.scope.source, [...at, ...i.path]), `item ${index}: ${i.message}`, i.suggestion),
      );
    const parsed = taskSpecSchema.safeParse(spec, { reportInput: true });
    if (parsed.success) out.push(taskWork(parsed.data, c.step));
    else c.scope.out.problems.push(...zodProblems(parsed.error.issues, taskSpecSchema, at, c.scope.source));
  });
  return out;
}

export function joinState(c: StepContext & { step: Extract<Step, { join: unknown }> }): StateConfig {
  const { join } = c.step;
  const from = refList(join.from).map((id) => qualify(c.scope, id));
  const strategy = join.strategy ?? 'all';
  const work: StepWork = {
    kind: 'join',
    step: c.qid,
    ...needsOf(c),
    from,
    strategy,
    k: join.k ?? null,
    tolerance: join.tolerance ?? null,
    then: join.then ? taskWork(join.then, c.step) : null,
    cancelRemaining: join.cancel_remaining ?? false,
  };
  return atomicState(c, work, {
    meta: {
      count: work.then ? 1 : 0,
      quorum: { kind: 'join', strategy, k: join.k ?? null, required: null, sources: from },
    },
  });
}

export function syncState(c: StepContext & { step: Extract<Step, { sync: unknown }> }): StateConfig {
  const waitFor = refList(c.step.sync.wait_for).map((id) => qualify(c.scope, id));
  const required = c.step.sync.required ?? null;
  const work: StepWork = {
    kind: 'sync',
    step: c.qid,
    ...needsOf(c),
    waitFor,
    required,
    continueOnTimeout: c.step.on_timeout === 'continue',
  };
  return atomicState(c, work, {
    meta: { count: 0, quorum: { kind: 'sync', strategy: 'sync', k: null, required, sources: waitFor } },
  });
}

export function mergeState(c: StepContext & { step: Extract<Step, { merge: unknown }> }): StateConfig {
  const { merge } = c.step;
  const from = refList(merge.from).map((id) => qualify(c.scope, id));
  return atomicState(c, {
    kind: 'merge',
    step: c.qid,
    ...needsOf(c),
    from,
    strategy: merge.strategy,
    fn: merge.function ?? null,
  });
}

export function voteState(c: StepContext & { step: Extract<Step, { vote: unknown }> }): StateConfig {
  const { vote } = c.step;
  const work: StepWork = {
    kind: 'vote',
    step: c.qid,
    ...needsOf(c),
    voters: vote.voters,
    task: taskWork(vote.task, c.step),
    field: vote.field ?? null,
  };
  // One voter cannot tie.
  if (vote.voters < 2) return atomicState(c, work, { meta: { count: vote.voters } });
  const tie = resolveTarget(c.scope, c.index, vote.on_tie ?? 'fail', 'failure');
  c.scope.out.events.push({ type: 'vote.tied', step: c.qid });
  const tied: TransitionConfig = {
    guard: isStep(c.qid),
    target: tie,
    actions: [recordFailure(c.qid, 'tied'), emit('pattern.vote.tied', { step: c.qid })],
    description: 'tie',
  };
  return atomicState(c, work, { on: { 'vote.tied': [tied] }, meta: { count: vote.voters } });
}

const ruleText = (rule: RoutingRule): string => `${rule.key} ${rule.operator} ${JSON.stringify(rule.value)}`;

export function branchState(c: StepContext & { step: Extract<Step, { branch: unknown }> }): StateConfig {
  const { branch } = c.step;
  const on =
    branch.on !== undefined
      ? qualify(c.scope, branch.on)
      : qualify(c.scope, (c.scope.pattern.steps[c.index - 1] as Step).id);
  const routes: TransitionConfig[] = branch.rules.map((rule, i) => {
    const route = routeLabel(i);
    c.scope.out.events.push({ type: 'route.chosen', step: c.qid, route });
    const chosen = emit('pattern.route.chosen', {
      step: c.qid,
      route,
      decision: rule.decision,
      reasoning: rule.reasoning ?? null,
    });
    const t: TransitionConfig = {
      guard: { type: 'routeIs', params: { step: c.qid, route } },
      target: '',
      actions: [chosen],
      description: `${ruleText(rule)}: ${rule.decision}`,
    };
    if (rule.decision === 'continue') t.target = stepAfter(c.scope, c.index, 1);
    else if (rule.decision === 'skip') t.target = stepAfter(c.scope, c.index, 2);
    else if (rule.decision === 'branch') t.target = resolveTarget(c.scope, c.index, rule.to as string, 'success');
    else if (rule.decision === 'end') t.target = c.scope.exits.end;
    else {
      t.target = c.scope.exits.fail;
      t.actions = [
        chosen,
        recordFailure(c.qid, 'error', rule.reasoning ?? `rule ${i} (${ruleText(rule)}) decided error`),
      ];
    }
    return t;
  });
  c.scope.out.events.push({ type: 'route.chosen', step: c.qid, route: OTHERWISE } satisfies PatternEvent);
  routes.push({
    guard: { type: 'routeIs', params: { step: c.qid, route: OTHERWISE } },
    target: resolveTarget(c.scope, c.index, branch.otherwise ?? 'continue', 'success'),
    actions: [emit('pattern.route.chosen', { step: c.qid, route: OTHERWISE, decision: 'otherwise' })],
    description: 'otherwise',
  });
  const rulesAt = branch.rules.map((_, i) => lazyLocate(c.scope.source, stepPath(c.index, 'branch', 'rules', i)));
  // The rules decide at once on data already there (a missing key matches no rule): no failure.
  return atomicState(
    c,
    { kind: 'branch', step: c.qid, ...needsOf(c), on, rules: branch.rules },
    { on: { 'route.chosen': routes }, awaits: ['route.chosen'], failure: false, meta: { rulesAt, instant: true } },
  );
}

export function waitState(c: StepContext & { step: Extract<Step, { wait: unknown }> }): StateConfig {
  const { signal } = c.step.wait;
  c.scope.out.events.push({ type: 'pattern.signal', name: signal });
  const arrived: TransitionConfig = {
    guard: { type: 'signalIs', params: { name: signal } },
    target: c.success,
    actions: [emit('pattern.step.completed', { step: c.qid, signal })],
    description: `signal ${signal}`,
  };
  return atomicState(
    c,
    { kind: 'wait', step: c.qid, ...needsOf(c), signal },
    { on: { 'pattern.signal': [arrived] }, awaits: ['pattern.signal'], failure: false },
  );
}
