import dagre from '@dagrejs/dagre';
import { useMemo } from 'preact/hooks';

/** A node to draw; `parent` nests it in a compound node drawn as a box around its children. */
export interface GraphNode {
  id: string;
  label: string;
  parent?: string | null;
  /** CSS classes: `current`, `visited`, `final`, or a status such as `running`. */
  className?: string;
  href?: string;
  title?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  label?: string;
  className?: string;
}

interface Laid {
  nodes: Array<GraphNode & { x: number; y: number; width: number; height: number; compound: boolean }>;
  edges: Array<GraphEdge & { points: Array<{ x: number; y: number }>; lx: number; ly: number }>;
  width: number;
  height: number;
}

const CHAR_WIDTH = 7.2;

/** Lays the graph out with dagre (top to bottom), compound nodes as clusters. */
function layout(nodes: GraphNode[], edges: GraphEdge[]): Laid {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 44, edgesep: 12, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  const parents = new Set(nodes.map((n) => n.parent).filter((p): p is string => !!p));
  for (const n of nodes) {
    g.setNode(n.id, { label: n.label, width: Math.max(64, n.label.length * CHAR_WIDTH + 24), height: 30 });
  }
  for (const n of nodes) if (n.parent && g.hasNode(n.parent)) g.setParent(n.id, n.parent);
  edges.forEach((e, i) => {
    if (!g.hasNode(e.from) || !g.hasNode(e.to)) return;
    // dagre cannot route edges that end on a cluster: attach them to the cluster's first leaf.
    const leaf = (id: string): string => {
      let current = id;
      for (let guard = 0; parents.has(current) && guard < 50; guard++) {
        const child = (g.children(current) as unknown as string[] | undefined)?.[0];
        if (!child) break;
        current = child;
      }
      return current;
    };
    const label = e.label ?? '';
    g.setEdge(
      leaf(e.from),
      leaf(e.to),
      { label, width: label.length * 6.2, height: label ? 14 : 0, labelpos: 'c' },
      `e${i}`,
    );
  });
  dagre.layout(g);
  const laidNodes = nodes
    .filter((n) => g.hasNode(n.id))
    .map((n) => {
      const v = g.node(n.id);
      return { ...n, x: v.x, y: v.y, width: v.width, height: v.height, compound: parents.has(n.id) };
    });
  const laidEdges = edges.flatMap((e, i) => {
    const ends = g.edges().find((x) => x.name === `e${i}`);
    if (!ends) return [];
    const v = g.edge(ends) as { points: Array<{ x: number; y: number }>; x?: number; y?: number };
    const mid = v.points[Math.floor(v.points.length / 2)] ?? { x: 0, y: 0 };
    return [{ ...e, points: v.points, lx: v.x ?? mid.x, ly: v.y ?? mid.y }];
  });
  const graph = g.graph() as { width?: number; height?: number };
  return { nodes: laidNodes, edges: laidEdges, width: graph.width ?? 100, height: graph.height ?? 100 };
}

/**
 * An SVG drawing of a graph: statecharts (states, transitions, the current state lit) and
 * dependency graphs (tasks coloured by status). Nodes with an `href` are links, reachable by Tab.
 */
export function GraphView(props: { nodes: GraphNode[]; edges: GraphEdge[]; label: string }) {
  const laid = useMemo(() => layout(props.nodes, props.edges), [props.nodes, props.edges]);
  const path = (points: Array<{ x: number; y: number }>) =>
    points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  return (
    <svg
      class="graph"
      role="img"
      aria-label={props.label}
      viewBox={`0 0 ${laid.width} ${laid.height}`}
      width={laid.width}
      height={laid.height}
    >
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
        </marker>
      </defs>
      {laid.nodes
        .filter((n) => n.compound)
        .map((n) => (
          <g class={`cluster ${n.className ?? ''}`} data-id={n.id} key={n.id}>
            <rect x={n.x - n.width / 2} y={n.y - n.height / 2} width={n.width} height={n.height} rx="10" />
            <text x={n.x - n.width / 2 + 8} y={n.y - n.height / 2 + 14}>
              {n.label}
            </text>
          </g>
        ))}
      {laid.edges.map((e, i) => (
        <g class={`edge ${e.className ?? ''}`} key={`e${i}`}>
          <path d={path(e.points)} marker-end="url(#arrow)" />
          {e.label ? (
            <text x={e.lx} y={e.ly} text-anchor="middle">
              {e.label}
            </text>
          ) : null}
        </g>
      ))}
      {laid.nodes
        .filter((n) => !n.compound)
        .map((n) => {
          const box = (
            <g class={`node ${n.className ?? ''}`} data-id={n.id} data-label={n.label}>
              <title>{n.title ?? n.label}</title>
              <rect x={n.x - n.width / 2} y={n.y - n.height / 2} width={n.width} height={n.height} rx="8" />
              <text x={n.x} y={n.y + 4} text-anchor="middle">
                {n.label}
              </text>
            </g>
          );
          return n.href ? (
            <a href={n.href} key={n.id}>
              {box}
            </a>
          ) : (
            <g key={n.id}>{box}</g>
          );
        })}
    </svg>
  );
}
