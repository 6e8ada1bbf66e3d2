import { assign, setup } from 'xstate';
import { EFFECT_ACTIONS, hostEffect, type Stamped } from '../machines/effects.js';
import type { BulkheadDefinition } from './bulkhead-rules.js';

/**
 * A bulkhead's definition, kept as an actor so that it survives a restart and every change is an
 * event like the rest. The dispatcher keeps the running counts (they follow from the leases).
 */
export const bulkheadMachine = setup({
  types: {
    context: {} as { def: BulkheadDefinition },
    events: {} as { type: 'bulkhead.define'; def: BulkheadDefinition } & Stamped,
    input: {} as { def: BulkheadDefinition },
  },
  actions: { ...EFFECT_ACTIONS, bulkheadState: hostEffect<{ def: BulkheadDefinition }>() },
}).createMachine({
  id: 'bulkhead',
  context: ({ input }) => ({ def: input.def }),
  entry: [
    { type: 'bulkheadState', params: ({ context }) => ({ def: context.def }) },
    { type: 'emit', params: ({ context }) => ({ type: 'bulkhead.defined', data: { ...context.def } }) },
  ],
  on: {
    'bulkhead.define': {
      actions: [
        assign({ def: ({ event }) => event.def }),
        { type: 'bulkheadState', params: ({ context }) => ({ def: context.def }) },
        { type: 'emit', params: ({ context }) => ({ type: 'bulkhead.defined', data: { ...context.def } }) },
      ],
    },
  },
});

/** The actor id of the bulkhead `name`. */
export const bulkheadIdOf = (name: string): string => `bulkhead:${name}`;
