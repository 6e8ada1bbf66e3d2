import { assign, setup } from 'xstate';
import { EFFECT_ACTIONS } from '../machines/effects.js';
import { COORDINATION_EFFECT_ACTIONS } from './coordinator-effects.js';

/**
 * A named quality score (a "quality gate" such as `coverage`), id `quality:<name>`. It never
 * settles: the latest score survives restarts, and every change is told to the guards waiting
 * for the gate (through the `qualityChanged` effect) and recorded as an event.
 */

type Stamped = { now: number };

export interface QualityInput {
  id: string;
  gate: string;
  now: number;
}

export interface QualityContext {
  id: string;
  gate: string;
  score: number | null;
  updates: number;
  updatedAt: number | null;
}

export type QualityEvent = { type: 'quality.set'; score: number } & Stamped;

export const qualityIdOf = (gate: string): string => `quality:${gate}`;

/**
 * The quality gate machine (kind `coordination.quality`). Pure: every effect is a named action the runtime carries out.
 *
 * @example
 * ```ts
 * const s = new MachineStepper(qualityMachine).initial({ id: 'quality:coverage', gate: 'coverage', now: 0 });
 * ```
 */
export const qualityMachine = setup({
  types: { context: {} as QualityContext, events: {} as QualityEvent, input: {} as QualityInput },
  actions: { ...EFFECT_ACTIONS, ...COORDINATION_EFFECT_ACTIONS },
}).createMachine({
  id: 'quality',
  context: ({ input }) => ({ id: input.id, gate: input.gate, score: null, updates: 0, updatedAt: null }),
  initial: 'open',
  states: {
    open: {
      on: {
        'quality.set': {
          actions: [
            assign({
              score: ({ event }) => event.score,
              updates: ({ context }) => context.updates + 1,
              updatedAt: ({ event }) => event.now,
            }),
            {
              type: 'emit',
              params: ({ context }) => ({
                type: 'coordination.quality.updated',
                data: { gate: context.gate, score: context.score },
              }),
            },
            { type: 'qualityChanged', params: ({ context }) => ({ gate: context.gate, score: context.score ?? 0 }) },
          ],
        },
      },
    },
  },
});

export type QualityMachine = typeof qualityMachine;
