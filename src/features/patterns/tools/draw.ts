import type { AnyStateNode } from 'xstate';
import type { CompiledPattern } from '../compile/compile.js';
import { metaOf, statechartGraph, type ChartEdge, type StatechartGraph } from '../checks/statechart-graph.js';

/**
 * Drawings of a compiled pattern's statechart: Mermaid (`stateDiagram-v2`), Graphviz DOT, or
 * JSON nodes and edges. All three are made from the statechart itself, so what is drawn is what
 * runs and what is checked.
 */
export type DrawFormat = 'mermaid' | 'dot' | 'json';

export interface DrawnNode {
  id: string;
  key: string;
  parent: string | null;
  type: string;
  kind: string | null;
  line: number | null;
  /** The steps it needs (node ids) and the failure policy of each: `skip`, `continue`, `fail`. */
  needs?: Array<{ step: string; onFailure: string }>;
}
export interface DrawnEdge {
  from: string;
  to: string;
  event: string;
  label: string;
}
/** A pattern's statechart as nodes and edges, ready to be drawn (DOT, Mermaid, the dashboard). */
export interface DrawnGraph {
  name: string;
  initial: string;
  nodes: DrawnNode[];
  edges: DrawnEdge[];
}

const label = (e: ChartEdge): string =>
  e.description && e.description !== e.event ? `${e.event} [${e.description}]` : e.event;

/** Node ids of the states of steps, by qualified step id. */
function stepNodes(graph: StatechartGraph): Map<string, string> {
  const out = new Map<string, string>();
  for (const node of graph.nodes.values()) {
    const meta = metaOf(node);
    if (meta?.unit && !out.has(meta.step)) out.set(meta.step, node.id);
  }
  return out;
}

/** Each step's needs as drawn: the node it needs, and the failure policy. */
function needEdges(graph: StatechartGraph): Array<{ from: string; to: string; onFailure: string }> {
  const nodes = stepNodes(graph);
  const out: Array<{ from: string; to: string; onFailure: string }> = [];
  for (const node of graph.nodes.values()) {
    const meta = metaOf(node);
    if (!meta?.unit || nodes.get(meta.step) !== node.id) continue;
    for (const need of meta.needs ?? [])
      out.push({ from: nodes.get(need.step) ?? need.step, to: node.id, onFailure: need.onFailure });
  }
  return out;
}

/** Final states nothing leads to (escalated in a pattern with no review) are left out of drawings. */
function drawn(graph: StatechartGraph): (node: AnyStateNode) => boolean {
  const targets = new Set(graph.edges.map((e) => e.target));
  return (node) => node.type !== 'final' || targets.has(node.id);
}

/**
 * Nodes and edges as plain data.
 *
 * @example
 * ```ts
 * const { nodes, edges } = graphOf(compiled);
 * ```
 */
export function graphOf(
  compiled: CompiledPattern,
  graph: StatechartGraph = statechartGraph(compiled.machine),
): DrawnGraph {
  const nodes: DrawnNode[] = [];
  const keep = drawn(graph);
  for (const node of graph.nodes.values()) {
    if (!node.parent || !keep(node)) continue;
    const meta = metaOf(node);
    nodes.push({
      id: node.id,
      key: node.key,
      parent: node.parent.parent ? node.parent.id : null,
      type: node.type,
      kind: meta?.kind ?? null,
      line: meta?.at.line ?? null,
      ...(meta?.unit && meta.needs
        ? { needs: meta.needs.map((n) => ({ step: stepNodes(graph).get(n.step) ?? n.step, onFailure: n.onFailure })) }
        : {}),
    });
  }
  const edges = graph.edges.map((e) => ({ from: e.from, to: e.target, event: e.event, label: label(e) }));
  const initial = graph.machine.root.initial.target[0]?.id ?? '';
  return { name: compiled.name, initial, nodes, edges };
}

/**
 * The statechart drawn in the given format.
 *
 * @example
 * ```ts
 * console.log(drawPattern(compiled, 'mermaid'));
 * ```
 */
export function drawPattern(compiled: CompiledPattern, format: DrawFormat): string {
  const graph = statechartGraph(compiled.machine);
  if (format === 'json') return JSON.stringify(graphOf(compiled, graph), null, 2);
  return format === 'mermaid' ? mermaid(graph) : dot(compiled.name, graph);
}

const mermaidId = (id: string): string => id.replace(/[^A-Za-z0-9_]/g, '_');
const mermaidText = (text: string): string =>
  text
    .replace(/[:;"{}#]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

function mermaid(graph: StatechartGraph): string {
  const lines = ['stateDiagram-v2'];
  const keep = drawn(graph);
  const write = (node: AnyStateNode, indent: string) => {
    const children = Object.values(node.states).filter(keep);
    const initial = node.initial?.target[0];
    if (initial) lines.push(`${indent}[*] --> ${mermaidId(initial.id)}`);
    for (const child of children) {
      const id = mermaidId(child.id);
      if (child.key !== id) lines.push(`${indent}state "${mermaidText(child.key)}" as ${id}`);
      if (child.type === 'compound') {
        lines.push(`${indent}state ${id} {`);
        write(child, `${indent}  `);
        lines.push(`${indent}}`);
      }
      if (child.type === 'final') lines.push(`${indent}${id} --> [*]`);
    }
  };
  write(graph.machine.root, '  ');
  for (const e of graph.edges)
    lines.push(`  ${mermaidId(e.from)} --> ${mermaidId(e.target)} : ${mermaidText(label(e))}`);
  // What each step needs, and what a failure there does to it (skip, continue, fail).
  const notes = new Map<string, string[]>();
  for (const n of needEdges(graph))
    notes.set(n.to, [
      ...(notes.get(n.to) ?? []),
      `${graph.nodes.get(n.from)?.key ?? n.from} (on failure ${n.onFailure})`,
    ]);
  for (const [to, needs] of notes)
    lines.push(`  note right of ${mermaidId(to)} : needs ${mermaidText(needs.join(', '))}`);
  return lines.join('\n');
}

const q = (text: string): string => JSON.stringify(text);

function dot(name: string, graph: StatechartGraph): string {
  const lines = [
    `digraph ${q(name)} {`,
    '  compound=true;',
    '  rankdir=TB;',
    '  node [shape=box, style=rounded, fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  const anchor = (node: AnyStateNode): AnyStateNode => {
    let current = node;
    while (current.type === 'compound' && current.initial.target[0]) current = current.initial.target[0];
    return current;
  };
  const keep = drawn(graph);
  const write = (node: AnyStateNode, indent: string) => {
    for (const child of Object.values(node.states).filter(keep)) {
      if (child.type === 'compound') {
        lines.push(`${indent}subgraph ${q(`cluster_${child.id}`)} {`, `${indent}  label=${q(child.key)};`);
        write(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        const shape = child.type === 'final' ? ', shape=doublecircle' : '';
        lines.push(`${indent}${q(child.id)} [label=${q(child.key)}${shape}];`);
      }
    }
  };
  write(graph.machine.root, '  ');
  lines.push('  "__start" [shape=point];');
  lines.push(`  "__start" -> ${q(anchor(graph.machine.root).id)};`);
  for (const e of graph.edges) {
    const from = graph.nodes.get(e.from)!;
    const to = graph.nodes.get(e.target)!;
    const attrs = [`label=${q(label(e))}`];
    if (from.type === 'compound') attrs.push(`ltail=${q(`cluster_${from.id}`)}`);
    if (to.type === 'compound') attrs.push(`lhead=${q(`cluster_${to.id}`)}`);
    lines.push(`  ${q(anchor(from).id)} -> ${q(anchor(to).id)} [${attrs.join(', ')}];`);
  }
  for (const n of needEdges(graph)) {
    const from = graph.nodes.get(n.from);
    const to = graph.nodes.get(n.to);
    if (!from || !to) continue;
    lines.push(
      `  ${q(anchor(from).id)} -> ${q(anchor(to).id)} [style=dashed, constraint=false, label=${q(`needs (on failure ${n.onFailure})`)}];`,
    );
  }
  lines.push('}');
  return lines.join('\n');
}
