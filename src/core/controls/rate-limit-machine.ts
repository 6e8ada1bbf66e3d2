import { assign, setup } from 'xstate';
import { EFFECT_ACTIONS, hostEffect, type Stamped } from '../machines/effects.js';
import {
  freshBudget,
  redefineBudget,
  spendUnits,
  type RateBudgetState,
  type RateLimitDefinition,
} from './rate-budget.js';

export interface RateLimitContext {
  def: RateLimitDefinition;
  budget: RateBudgetState;
}

export type RateLimitEvent =
  | ({ type: 'ratelimit.define'; def: RateLimitDefinition } & Stamped)
  /** Units spent: by the dispatcher when it starts a task (`at` its clock), or reported after the fact. */
  | ({ type: 'ratelimit.spend'; units: number; at: number; reported: boolean } & Stamped);

/** What the dispatcher's copy of the budget is set to after a change it did not make itself. */
export interface RateLimitStateParams {
  def: RateLimitDefinition;
  budget: RateBudgetState;
}

const stateEffect = {
  type: 'rateLimitState' as const,
  params: ({ context }: { context: RateLimitContext }): RateLimitStateParams => ({
    def: context.def,
    budget: context.budget,
  }),
};

/**
 * The durable half of a rate limit: its definition and what has been spent, kept as an actor so
 * both survive a restart mid-window. The dispatcher keeps a copy it spends from as it hands out
 * work and sends each spend here in the same batch, so the store always holds what was handed out.
 */
export const rateLimitMachine = setup({
  types: {
    context: {} as RateLimitContext,
    events: {} as RateLimitEvent,
    input: {} as { def: RateLimitDefinition; now: number },
  },
  actions: { ...EFFECT_ACTIONS, rateLimitState: hostEffect<RateLimitStateParams>() },
}).createMachine({
  id: 'rate-limit',
  context: ({ input }) => ({ def: input.def, budget: freshBudget(input.def, input.now) }),
  entry: [
    stateEffect,
    { type: 'emit', params: ({ context }) => ({ type: 'ratelimit.defined', data: { ...context.def } }) },
  ],
  initial: 'active',
  states: {
    active: {
      on: {
        'ratelimit.define': {
          actions: [
            assign(({ context, event }) => ({
              def: event.def,
              budget: redefineBudget(context.def, event.def, context.budget, event.now),
            })),
            stateEffect,
            { type: 'emit', params: ({ context }) => ({ type: 'ratelimit.defined', data: { ...context.def } }) },
          ],
        },
        'ratelimit.spend': [
          {
            // Reported after the fact: the dispatcher did not spend it, so its copy is set anew.
            guard: ({ event }) => event.reported,
            actions: [
              assign({
                budget: ({ context, event }) => spendUnits(context.def, context.budget, event.units, event.at),
              }),
              stateEffect,
              {
                type: 'emit',
                params: ({ context, event }) => ({
                  type: 'ratelimit.reported',
                  data: { key: context.def.key, units: event.units },
                }),
              },
            ],
          },
          {
            actions: assign({
              budget: ({ context, event }) => spendUnits(context.def, context.budget, event.units, event.at),
            }),
          },
        ],
      },
    },
  },
});

/** The actor id of the rate limit `key`. */
export const rateLimitIdOf = (key: string): string => `ratelimit:${key}`;
