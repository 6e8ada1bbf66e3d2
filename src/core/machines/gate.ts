/**
 * Phase gates as pure data and a pure check. A gate passes only when every criterion it names
 * holds; a failed check gives reasons that travel back to the work as feedback.
 */
export interface ValidatorSpec {
  /** Task type of the validator task the phase creates when its other criteria hold. */
  type: string;
  description?: string;
  requires?: string[];
  input?: unknown;
}

/** The criteria a phase must meet to pass: its tasks' outcomes, required artifacts, quality, and optional validators. */
export interface GateSpec {
  /** Every task of the phase must have succeeded. Default true. */
  allTasksSucceeded?: boolean;
  /** Artifact names that at least one succeeded task must have handed in. */
  requiredArtifacts?: string[];
  /** Lowest quality score allowed; compared with the lowest score the phase's tasks reported. */
  minQuality?: number;
  /** A validator task whose result `{ approved: boolean, feedback?: string }` decides last. */
  validator?: ValidatorSpec;
}

export interface PhaseCounts {
  total: number;
  open: number;
  succeeded: number;
  dead_lettered: number;
  cancelled: number;
  skipped: number;
}

export interface GateInputs {
  counts: PhaseCounts;
  artifacts: string[];
  /** Lowest quality reported by a succeeded task, or null when none reported one. */
  minQuality: number | null;
}

/** Reasons the gate's own criteria fail (empty when they hold); the validator is checked apart. */
export function gateFailures(gate: GateSpec, inputs: GateInputs): string[] {
  const reasons: string[] = [];
  const { counts } = inputs;
  if (gate.allTasksSucceeded !== false && counts.succeeded < counts.total) {
    const failed = counts.total - counts.succeeded;
    reasons.push(`${failed} of ${counts.total} tasks did not succeed`);
  }
  for (const name of gate.requiredArtifacts ?? []) {
    if (!inputs.artifacts.includes(name)) reasons.push(`required artifact "${name}" is missing`);
  }
  if (gate.minQuality !== undefined) {
    if (inputs.minQuality === null) reasons.push(`no quality score was reported (needs ${gate.minQuality})`);
    else if (inputs.minQuality < gate.minQuality) {
      reasons.push(`quality ${inputs.minQuality} is below ${gate.minQuality}`);
    }
  }
  return reasons;
}
