import { createHash } from 'node:crypto';
import type { MachineRegistry } from '../../../engine/machine-registry.js';
import type { CompiledPattern } from '../compile/compile.js';

/** Actor kinds of pattern runs start with this; the rest names the pattern and its hash. */
export const PATTERN_KIND_PREFIX = 'pattern:';

export const isPatternKind = (kind: string): boolean => kind.startsWith(PATTERN_KIND_PREFIX);

/**
 * A stable short hash of what a compiled pattern does (its resolved steps and the work of
 * each state), so that the same pattern with the same inputs is the same machine after a
 * restart, and a changed one is a different machine (never a misread snapshot).
 */
export function patternHash(compiled: CompiledPattern): string {
  const text = JSON.stringify({ pattern: compiled.pattern, works: [...compiled.works.entries()] });
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

const kindOf = (name: string, hash: string): string => `${PATTERN_KIND_PREFIX}${name}:${hash}`;

/** The kind runs of a compiled pattern are stored under: `pattern:<name>:<hash>`. */
export const patternKindOf = (compiled: CompiledPattern): string => kindOf(compiled.name, patternHash(compiled));

/**
 * The compiled patterns a runtime can run, each registered as its own machine kind
 * (`pattern:<name>:<hash>`) in the runtime's machine registry.
 */
export class RegisteredPatterns {
  private readonly byKind = new Map<string, CompiledPattern>();

  constructor(private readonly machines: MachineRegistry) {}

  /** Registers (once) and returns the kind runs of this compiled pattern are stored under. */
  register(compiled: CompiledPattern): string {
    const hash = patternHash(compiled);
    const kind = kindOf(compiled.name, hash);
    if (!this.byKind.has(kind)) {
      this.machines.register({
        kind,
        machineId: `troupe.pattern.${compiled.name}.${hash}`,
        version: 1,
        machine: compiled.machine,
      });
      this.byKind.set(kind, compiled);
    }
    return kind;
  }

  get(kind: string): CompiledPattern | undefined {
    return this.byKind.get(kind);
  }
}
