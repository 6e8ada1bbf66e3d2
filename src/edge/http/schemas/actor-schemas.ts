import { z } from 'zod';

/**
 * Any actor read whole, with its machine drawn as data (the dashboard's statecharts): tasks,
 * agents, phases, tickets, coordinators and pattern runs alike.
 */

export const actorParams = z.strictObject({
  kind: z
    .string()
    .min(1)
    .max(300)
    .meta({
      param: { name: 'kind', in: 'path' },
      description:
        'The actor kind: `task`, `agent`, `phase`, `ticket`, a coordinator kind (`join`, `split`, ...) or a pattern run kind.',
      example: 'task',
    }),
  id: z
    .string()
    .min(1)
    .max(300)
    .meta({ param: { name: 'id', in: 'path' }, description: 'The id, URL-encoded.', example: 'task-1' }),
});

export const actorListQuery = z.strictObject({
  ticket: z
    .string()
    .min(1)
    .max(300)
    .meta({ description: 'The actors of this ticket: its phases, tasks and coordinators.' }),
  kind: z.string().min(1).max(300).optional().meta({ description: 'Only this kind.' }),
});

const chartSchema = z
  .strictObject({
    initial: z.string(),
    nodes: z.array(
      z.strictObject({ id: z.string(), key: z.string(), parent: z.string().nullable(), type: z.string() }),
    ),
    edges: z.array(z.strictObject({ from: z.string(), to: z.string(), event: z.string() })),
  })
  .meta({ description: "The actor's machine: every state node and transition, read from the machine definition." });

const summaryShape = {
  kind: z.string(),
  id: z.string(),
  machineId: z.string(),
  state: z.string().meta({ description: 'The state value, dotted (`running`, `review.reviewing`).' }),
  settled: z.boolean(),
  view: z.record(z.string(), z.unknown()).nullable().meta({
    description: 'What the actor shows of itself: a phase its gate and counts, a coordinator what it waits for.',
  }),
};

export const actorSummary = z.strictObject(summaryShape).meta({ description: 'An actor in a list.' });

export const actorChart = z
  .strictObject({
    ...summaryShape,
    active: z.array(z.string()).meta({ description: 'Ids of the state nodes active now, outermost first.' }),
    context: z.record(z.string(), z.unknown()),
    chart: chartSchema
      .nullable()
      .meta({ description: 'Null when the machine of this kind is not loaded on this node.' }),
  })
  .meta({ description: 'An actor with its statechart.' });

export const actorList = z.strictObject({ items: z.array(actorSummary) });

export const whoAmI = z
  .strictObject({
    role: z
      .enum(['client', 'observer'])
      .meta({ description: 'What the token may do: clients read and act, observers read.' }),
    name: z.string().nullable().meta({ description: 'The name the token has in the configuration, if any.' }),
  })
  .meta({ description: 'The role of the token that asked.' });
