/**
 * The shapes the dashboard reads from the API (docs/api.md), taken from their one home: the
 * engine's views, the pattern run view, the HTTP schemas of actors. Type-only imports: erased
 * when the bundle is built, so the page loads none of the engine.
 */
import type { z } from 'zod';
import type { actorChart, actorSummary } from '../../http/schemas/actor-schemas.js';
import type { runView } from '../../http/schemas/run-schemas.js';

export type { AgentView, PhaseView, TaskView, TicketView } from '../../../engine/api/views.js';
export type { AttemptRecord as AttemptView } from '../../../core/machines/task-types.js';

/** A pattern run as `/v1/runs` answers it (the engine's `PatternRunView`, checked against it by the schema). */
export type RunView = z.output<typeof runView>;

/** What `/v1/actors/{kind}/{id}` answers: an actor with its machine drawn. */
export type ActorChart = z.output<typeof actorChart>;

/** An actor as `/v1/actors?ticket=` lists it. */
export type ActorSummary = z.output<typeof actorSummary>;

export type { CoordinatorView, JoinView } from '../../../features/coordination/coordinator-views.js';
