import { useMemo } from 'preact/hooks';
import { dataOf } from './actor-events.js';
import type { TroupeEvent } from './api.js';
import { GraphView, type GraphEdge, type GraphNode } from './graph-view.js';
import type { ActorChart } from './views.js';

/** Event names whose last word differs from the state they lead to. */
const EVENT_STATE_ALIASES: Record<string, string> = {
  started: 'running',
  completed: 'succeeded',
  assigned: 'offered',
  dead_lettered: 'dead_lettered',
};

/**
 * States the actor went through, read from its events in order: an event `x.y.queued` marks a
 * state whose key is `queued` (or its alias) as visited. The machines name their events after
 * the states they enter, which is what makes this work without a transition log. A pattern
 * run's `pattern.step.*` events name the step, whose state has the step's id as its key.
 */
function visitedKeys(events: TroupeEvent[]): Set<string> {
  const keys = new Set<string>();
  for (const e of events) {
    const last = e.type.split('.').at(-1) ?? '';
    keys.add(EVENT_STATE_ALIASES[last] ?? last);
    const step = dataOf(e)['step'];
    if (typeof step === 'string') keys.add(step.split('.').at(-1) ?? step);
  }
  return keys;
}

/** An actor drawn as its statechart: the current state lit, the states its events passed through marked. */
export function StatechartPanel({ actor, events }: { actor: ActorChart; events: TroupeEvent[] }) {
  const { nodes, edges } = useMemo(() => {
    const active = new Set(actor.active);
    const visited = visitedKeys(events);
    const nodes: GraphNode[] = (actor.chart?.nodes ?? []).map((n) => ({
      id: n.id,
      label: n.key,
      parent: n.parent,
      className: [active.has(n.id) ? 'current' : visited.has(n.key) ? 'visited' : '', n.type === 'final' ? 'final' : '']
        .join(' ')
        .trim(),
      title: `${n.id}${active.has(n.id) ? ' (current)' : ''}`,
    }));
    const drawn = new Set(nodes.map((n) => n.id));
    const edges: GraphEdge[] = (actor.chart?.edges ?? [])
      .filter((e) => drawn.has(e.from) && drawn.has(e.to) && e.from !== e.to)
      .map((e) => ({ from: e.from, to: e.to, label: e.event, className: active.has(e.from) ? 'from-current' : '' }));
    return { nodes, edges };
  }, [actor, events]);
  return (
    <figure class="statechart" data-testid="statechart" data-state={actor.state}>
      <figcaption>
        <code>{actor.machineId}</code> in <strong data-testid="current-state">{actor.state}</strong>
      </figcaption>
      {actor.chart === null ? (
        // A kind whose machine this server has not loaded (the API answers chart: null).
        <p>No chart: this server does not have the machine of {actor.kind} loaded.</p>
      ) : (
        <div class="scroll">
          <GraphView
            nodes={nodes}
            edges={edges}
            label={`statechart of ${actor.kind} ${actor.id}, current state ${actor.state}`}
          />
        </div>
      )}
    </figure>
  );
}
