import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { AnyStateMachine, StateValue } from 'xstate';
import type { StoredActor } from '../../../engine/store/store.js';
import type { Runtime } from '../../../runtime.js';
import { coordinatorView } from '../../../features/coordination/coordinator-views.js';
import { activeStateIds, dottedState, machineChart } from '../../dashboard/machine-chart.js';
import type { HttpEnv } from '../shared/http-auth.js';
import { HttpError } from '../shared/http-errors.js';
import { actorChart, actorList, actorListQuery, actorParams, whoAmI } from '../schemas/actor-schemas.js';
import { errors, json } from './route-kit.js';

const one = createRoute({
  method: 'get',
  path: '/v1/actors/{kind}/{id}',
  tags: ['actors'],
  summary: 'One actor with its statechart',
  description:
    "Any actor (task, agent, phase, ticket, coordinator, pattern run) with its machine's states and transitions and the states active now: what the dashboard draws.",
  request: { params: actorParams },
  responses: { 200: json(actorChart, 'The actor'), ...errors(401, 403, 404, 429, 503) },
});

const list = createRoute({
  method: 'get',
  path: '/v1/actors',
  tags: ['actors'],
  summary: "A ticket's actors",
  description: 'The phases, tasks and coordinators of one ticket, live and settled, each with its state and view.',
  request: { query: actorListQuery },
  responses: { 200: json(actorList, "The ticket's actors"), ...errors(400, 401, 403, 429, 503) },
});

const who = createRoute({
  method: 'get',
  path: '/v1/whoami',
  tags: ['actors'],
  summary: 'The role of this token',
  responses: { 200: json(whoAmI, 'The role'), ...errors(401, 403, 429) },
});

/** Fields of a view small enough for a list (a 10,000-way join's sources are not). */
const small = (view: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(view).filter(([, v]) => (JSON.stringify(v)?.length ?? 0) < 2_000));

/**
 * What an actor shows of itself: a coordinator its view (what it waits for, what arrived, its
 * decision: the one `runtime.coordination.get` answers), a phase its gate and counts, a task its
 * type and phase, anything else its context without the bulky parts. In lists (`whole` false)
 * fields over 2,000 characters are left out.
 */
function viewOf(stored: StoredActor, whole = false): Record<string, unknown> | null {
  const coordinator = coordinatorView(stored.kind, stored.state, stored.context);
  if (coordinator) return whole ? { ...coordinator } : small(coordinator);
  const context = stored.context;
  if (!context || typeof context !== 'object') return null;
  const c = context as Record<string, unknown>;
  if (stored.kind === 'phase')
    return { name: c['name'], gate: c['gate'] ?? null, round: c['round'], counts: c['counts'] };
  if (stored.kind === 'task') {
    // A task keeps what it was created with under `spec`.
    const spec = (c['spec'] ?? {}) as Record<string, unknown>;
    return { type: spec['type'] ?? null, phase: spec['phase'] ?? null };
  }
  return small(c);
}

function machineOf(runtime: Runtime, kind: string): AnyStateMachine | null {
  const machines = runtime.core.options.machines;
  return machines.has(kind) ? machines.get(kind).machine : null;
}

/** `/v1/actors`: actors read whole with their machines, for drawing; `/v1/whoami`. */
export function actorRoutes(app: OpenAPIHono<HttpEnv>, runtime: Runtime): void {
  app.openapi(one, async (c) => {
    const { kind, id } = c.req.valid('param');
    await runtime.start();
    const stored = await runtime.store.getActor(id);
    if (!stored || stored.kind !== kind) throw new HttpError('E_NOT_FOUND', `no ${kind} actor ${id}`, ['path', 'id']);
    const machine = machineOf(runtime, stored.kind);
    const body = {
      kind: stored.kind,
      id: stored.id,
      machineId: stored.machineId,
      state: dottedState(stored.state),
      settled: stored.settled,
      view: viewOf(stored, true),
      active: machine ? activeStateIds(machine, stored.state as StateValue) : [],
      context: (stored.context ?? {}) as Record<string, unknown>,
      chart: machine ? machineChart(machine) : null,
    };
    return c.json(body as never, 200);
  });

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    await runtime.start();
    const actors = await runtime.store.listActors({ ticketId: q.ticket, ...(q.kind ? { kind: q.kind } : {}) });
    const items = actors.map((a) => ({
      kind: a.kind,
      id: a.id,
      machineId: a.machineId,
      state: dottedState(a.state),
      settled: a.settled,
      view: viewOf(a),
    }));
    return c.json({ items } as never, 200);
  });

  app.openapi(who, (c) => {
    const principal = c.get('principal');
    return c.json({ role: principal.role, name: (principal as { name?: string }).name ?? null } as never, 200);
  });
}
