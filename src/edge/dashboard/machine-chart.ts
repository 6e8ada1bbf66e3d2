import type { AnyStateMachine, AnyStateNode, StateValue } from 'xstate';

/** A machine's states and transitions as plain data, for drawing; read from the machine itself. */
export interface MachineChart {
  machineId: string;
  /** Id of the state entered first. */
  initial: string;
  nodes: Array<{ id: string; key: string; parent: string | null; type: string }>;
  edges: Array<{ from: string; to: string; event: string }>;
}

const charts = new WeakMap<AnyStateMachine, MachineChart>();

/** How an event is labelled on an edge: XState's internal names made readable. */
function eventLabel(event: string): string {
  if (event === '') return 'always';
  if (event.startsWith('xstate.after'))
    return `after ${event.replace(/^xstate\.after\.?\(?/, '').replace(/\).*$/, '')}`;
  if (event.startsWith('xstate.done.state.')) return 'done';
  return event;
}

/**
 * Every state node of `machine` (the root left out) and every transition, as an edge from the
 * node that declares it to each target (eventless ones labelled `always`). Made once per machine.
 *
 * @example
 * ```ts
 * const chart = machineChart(taskMachine); // chart.nodes: queued, offered, running, ...
 * ```
 */
export function machineChart(machine: AnyStateMachine): MachineChart {
  const known = charts.get(machine);
  if (known) return known;
  const nodes: MachineChart['nodes'] = [];
  const edges: MachineChart['edges'] = [];
  const visit = (node: AnyStateNode) => {
    if (node.parent)
      nodes.push({ id: node.id, key: node.key, parent: node.parent.parent ? node.parent.id : null, type: node.type });
    for (const [event, transitions] of node.transitions) {
      for (const t of transitions)
        for (const target of t.target ?? []) edges.push({ from: node.id, to: target.id, event: eventLabel(event) });
    }
    for (const t of node.always ?? [])
      for (const target of t.target ?? []) edges.push({ from: node.id, to: target.id, event: 'always' });
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  const chart: MachineChart = {
    machineId: machine.id,
    initial: machine.root.initial?.target[0]?.id ?? '',
    nodes,
    edges,
  };
  charts.set(machine, chart);
  return chart;
}

/** Ids of the state nodes a state value makes active, outermost first (`{ running: 'x' }` gives running and running.x). */
export function activeStateIds(machine: AnyStateMachine, value: StateValue): string[] {
  const out: string[] = [];
  const walk = (node: AnyStateNode, v: StateValue) => {
    if (typeof v === 'string') {
      const child = node.states[v];
      if (child) out.push(child.id);
      return;
    }
    for (const [key, sub] of Object.entries(v)) {
      const child = node.states[key];
      if (!child) continue;
      out.push(child.id);
      if (sub !== undefined && sub !== null) walk(child, sub as StateValue);
    }
  };
  walk(machine.root, value);
  return out;
}

/** `{ a: { b: 'c' } }` as `a.b.c`. */
export function dottedState(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const [key, sub] = Object.entries(value as Record<string, unknown>)[0] ?? [];
    if (key === undefined) return '';
    const rest = dottedState(sub);
    return rest ? `${key}.${rest}` : key;
  }
  return '';
}
