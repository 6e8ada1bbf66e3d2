/**
 * Nearest-name suggestions for misspelt keys and references ("did you mean ...?").
 */

/** Levenshtein distance with adjacent transpositions counted as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows = a.length + 1;
  const cols = b.length + 1;
  // Three rolling rows are enough: the transposition looks two rows back.
  let prev2 = new Array<number>(cols).fill(0);
  let prev = Array.from({ length: cols }, (_, j) => j);
  for (let i = 1; i < rows; i++) {
    const current = new Array<number>(cols).fill(0);
    current[0] = i;
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((prev[j] as number) + 1, (current[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, (prev2[j - 2] as number) + 1);
      current[j] = best;
    }
    prev2 = prev;
    prev = current;
  }
  return prev[cols - 1] as number;
}

/**
 * The candidate nearest to `name`, if it is near enough to be a plausible misspelling: at most a
 * third of the longer name's length in edits (at least one), compared without case. Ties go to
 * the candidate listed first, so suggestions are deterministic.
 *
 * @example
 * ```ts
 * nearestName('stratgy', ['strategy', 'k', 'from']); // 'strategy'
 * nearestName('zzz', ['strategy']);                   // undefined
 * ```
 */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const distance = editDistance(wanted, candidate.toLowerCase());
    const allowed = Math.max(1, Math.floor(Math.max(name.length, candidate.length) / 3));
    if (distance <= allowed && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
