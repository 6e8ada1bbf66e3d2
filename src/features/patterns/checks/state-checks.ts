import type { CompiledPattern } from '../compile/compile.js';
import { routeLabel } from '../compile/protocol.js';
import { problem, type PatternProblem } from '../problems/problems.js';
import { sampleForRoute } from '../compile/route-decision.js';
import { exitsOf, metaOf, reachableLeaves, type StatechartGraph } from './statechart-graph.js';

/**
 * Checks that look at one state at a time: waits without a way out, joins and sync points that
 * can never be met, routing rules never chosen, and capabilities no agent offers.
 */

/**
 * A state that waits must have a way out besides the event it waits for: a deadline, or a
 * failure (its work can fail, a vote can tie, a review can be rejected). Cancelling the whole
 * run does not count; it is the user's emergency exit, not the pattern's.
 */
export function checkWaits(graph: StatechartGraph): PatternProblem[] {
  const out: PatternProblem[] = [];
  const reachable = reachableLeaves(graph);
  for (const id of reachable) {
    const meta = metaOf(graph.nodes.get(id));
    if (!meta || meta.awaits.length === 0 || meta.instant) continue;
    const others = exitsOf(graph, id).filter((e) => !meta.awaits.includes(e.event as never));
    if (others.length > 0) continue;
    const waitsFor = meta.awaits.join(' or ');
    out.push(
      problem(
        'E_WAIT_NO_EXIT',
        meta.at,
        `step "${meta.step}" waits for ${waitsFor} with neither a timeout nor another way out; give it a timeout (and on_timeout)`,
      ),
    );
  }
  return out;
}

/**
 * Joins and sync points that can never be met with the tasks they wait for: more successes
 * required than there are tasks. Sizes that are only known at run time (a split over a list in
 * a result, an input without a value) are not judged.
 */
export function checkQuorums(graph: StatechartGraph): PatternProblem[] {
  const out: PatternProblem[] = [];
  for (const node of graph.nodes.values()) {
    const meta = metaOf(node);
    const quorum = meta?.quorum;
    if (!meta || !quorum) continue;
    const counts = quorum.sources.map((id) => ({ id, count: metaOf(graph.nodes.get(id))?.count ?? null }));
    if (counts.some((c) => c.count === null)) continue;
    const n = counts.reduce((sum, c) => sum + (c.count as number), 0);
    const detail = counts.map((c) => `${c.id}: ${c.count}`).join(', ');
    const needed =
      quorum.kind === 'sync'
        ? (quorum.required ?? n)
        : quorum.strategy === 'k_of_n'
          ? (quorum.k ?? 1)
          : quorum.strategy === 'any'
            ? 1
            : quorum.strategy === 'majority'
              ? Math.floor(n / 2) + 1
              : n;
    if (needed <= n) continue;
    if (quorum.kind === 'sync') {
      out.push(
        problem(
          'E_SYNC_IMPOSSIBLE',
          meta.at,
          `sync point "${meta.step}" requires ${needed} tasks but waits for only ${n} (${detail})`,
        ),
      );
    } else {
      const rule = quorum.strategy === 'k_of_n' ? `k_of_n with k = ${needed}` : `strategy ${quorum.strategy}`;
      out.push(
        problem(
          'E_JOIN_IMPOSSIBLE',
          meta.at,
          `join "${meta.step}" (${rule}) can never be met: it joins ${n} task${n === 1 ? '' : 's'} (${detail})`,
        ),
      );
    }
  }
  return out;
}

/** Warns about routing rules that can never be the chosen one (a higher rule always wins first). */
export function checkRoutes(graph: StatechartGraph, compiled: CompiledPattern): PatternProblem[] {
  const out: PatternProblem[] = [];
  for (const work of compiled.works.values()) {
    if (work.kind !== 'branch') continue;
    const meta = metaOf(graph.nodes.get(work.step));
    work.rules.forEach((rule, i) => {
      if (sampleForRoute(work.rules, routeLabel(i)) !== undefined) return;
      const at = meta?.rulesAt?.[i] ?? meta?.at;
      if (at)
        out.push(
          problem(
            'W_ROUTE_UNREACHABLE',
            at,
            `rule ${i} (${rule.key} ${rule.operator} ${JSON.stringify(rule.value)}) is never chosen: a rule tried before it matches first, or nothing matches it`,
          ),
        );
    });
  }
  return out;
}

/**
 * Warns about tasks whose required capabilities no registered agent offers together: they
 * would wait in the queue until such an agent registers. Only a warning, since agents may come.
 */
export function checkCapabilities(
  graph: StatechartGraph,
  agents: ReadonlyArray<ReadonlyArray<string>>,
): PatternProblem[] {
  const out: PatternProblem[] = [];
  const offered = agents.map((caps) => new Set(caps));
  for (const node of graph.nodes.values()) {
    if (node.type !== 'atomic') continue;
    const meta = metaOf(node);
    if (!meta) continue;
    const seen = new Set<string>();
    for (const required of meta.requires) {
      const key = [...required].sort().join(',');
      if (required.length === 0 || seen.has(key)) continue;
      seen.add(key);
      if (offered.some((caps) => required.every((c) => caps.has(c)))) continue;
      const missing = required.filter((c) => !offered.some((caps) => caps.has(c)));
      const why = missing.length > 0 ? `no agent offers ${missing.join(', ')}` : 'no single agent offers all of them';
      out.push(
        problem('W_CAPABILITY_UNOFFERED', meta.at, `step "${meta.step}" requires ${required.join(', ')}; ${why}`),
      );
    }
  }
  return out;
}
