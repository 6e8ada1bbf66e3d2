import { assign, setup } from 'xstate';
import { EFFECT_ACTIONS } from '../../../core/machines/effects.js';
import type {
  CancelStepParams,
  PatternEvent,
  PatternFailure,
  PatternRunContext,
  PatternRunInput,
  PatternSettledParams,
  RunStepParams,
} from './protocol.js';

const hostEffect = (): void => {};

const eventStep = (event: PatternEvent): string | undefined => ('step' in event ? event.step : undefined);

/**
 * The named guards and actions every compiled pattern uses. Guards read only the event and the
 * context; actions either assign or are effects the runtime carries out, so the statechart stays
 * pure and can be stepped, restored and traversed.
 */
export const patternSetup = setup({
  types: {
    context: {} as PatternRunContext,
    events: {} as PatternEvent,
    input: {} as PatternRunInput,
  },
  guards: {
    isStep: ({ event }, params: { step: string }) => eventStep(event) === params.step,
    timerIs: ({ event }, params: { name: string }) => event.type === 'timer' && event.name === params.name,
    routeIs: ({ event }, params: { step: string; route: string }) =>
      event.type === 'route.chosen' && event.step === params.step && event.route === params.route,
    /** A rejected review round with rounds left: the work goes round again. */
    roundsLeft: ({ context, event }, params: { step: string; max: number }) =>
      eventStep(event) === params.step && (context.rounds[params.step] ?? 1) < params.max,
    signalIs: ({ event }, params: { name: string }) => event.type === 'pattern.signal' && event.name === params.name,
    failureKindIs: ({ context, event }, params: { step: string; kind: PatternFailure['kind'] }) =>
      eventStep(event) === params.step && context.failure?.kind === params.kind,
  },
  actions: {
    ...EFFECT_ACTIONS,
    patternRunStep: hostEffect as (_: unknown, params: RunStepParams) => void,
    patternCancelStep: hostEffect as (_: unknown, params: CancelStepParams) => void,
    patternSettled: hostEffect as (_: unknown, params: PatternSettledParams) => void,
    recordFailure: assign(({ event }, params: { step: string; kind: PatternFailure['kind']; reason?: string }) => ({
      failure: {
        step: params.step,
        kind: params.kind,
        reason: params.reason ?? failureReason(event),
      },
    })),
    /** Keeps a value the runtime computed for a step (merges and votes) for the steps after it. */
    recordResult: assign(({ context, event }, params: { step: string }) =>
      event.type === 'step.done' && event.result !== undefined
        ? { results: { ...context.results, [params.step]: event.result } }
        : {},
    ),
    start: assign(({ event, context }) => ({ startedAt: event.now ?? context.startedAt })),
    startRounds: assign(({ context }, params: { step: string }) => ({
      rounds: { ...context.rounds, [params.step]: 1 },
      feedback: { ...context.feedback, [params.step]: null },
    })),
    nextRound: assign(({ context, event }, params: { step: string }) => ({
      rounds: { ...context.rounds, [params.step]: (context.rounds[params.step] ?? 1) + 1 },
      feedback: { ...context.feedback, [params.step]: event.type === 'review.rejected' ? event.feedback : null },
    })),
    settle: assign(({ event, context }, params: { outcome: PatternRunContext['outcome'] }) => ({
      outcome: params.outcome,
      settledAt: event.now ?? context.startedAt,
      failure:
        event.type === 'pattern.cancel' ? { step: '', kind: 'error' as const, reason: event.reason } : context.failure,
    })),
  },
});

function failureReason(event: PatternEvent): string {
  switch (event.type) {
    case 'step.failed':
      return event.reason;
    case 'timer':
      return 'the step timed out';
    case 'vote.tied':
      return 'the vote was tied';
    case 'review.rejected':
      return `the last review round was rejected: ${event.feedback}`;
    default:
      return event.type;
  }
}

/** The clock time an event carries (the host stamps `now`; the first state's entry reads the input's). */
export function eventNow(event: unknown, context: PatternRunContext): number {
  const e = event as { now?: unknown; input?: { now?: unknown } };
  if (typeof e.now === 'number') return e.now;
  if (typeof e.input?.now === 'number') return e.input.now;
  return context.startedAt;
}
