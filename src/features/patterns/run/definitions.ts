import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { setup } from 'xstate';
import type { ActorHost } from '../../../engine/actor-host.js';
import type { MachineDefinition } from '../../../engine/machine-registry.js';
import { storeReadError, type Store, type StoredActor } from '../../../engine/store/store.js';
import { compilePattern, type CompiledPattern } from '../compile/compile.js';
import type { Pattern } from '../format/pattern.js';
import { PatternLibrary, usesOf } from '../load/library.js';
import { parsePatternSource } from '../load/source.js';
import { PATTERN_KIND_PREFIX, patternKindOf, type RegisteredPatterns } from './registered.js';

/**
 * What a pattern run's machine was compiled from, stored once per pattern kind (as an actor of
 * kind `pattern-definition`, id `pattern-def:<name>:<hash>`, derived from the kind) no later than
 * the first run of that kind, so that after a restart the kind is compiled again from the store
 * and its unfinished runs carry on without the pattern being registered by hand.
 */
export interface PatternDefinition {
  /** The kind of the runs: `pattern:<name>:<hash>`. */
  kind: string;
  /** The resolved pattern (input values substituted) the machine was compiled from. */
  pattern: Pattern;
  /** The files of the patterns it uses (`use:`, at any depth) as they were, by name. */
  uses: Array<{ name: string; file: string; text: string }>;
}

export const PATTERN_DEFINITION_KIND = 'pattern-definition';
const ID_PREFIX = 'pattern-def:';

/** `pattern-def:<name>:<hash>` for the kind `pattern:<name>:<hash>`. */
export const definitionIdOf = (kind: string): string => `${ID_PREFIX}${kind.slice(PATTERN_KIND_PREFIX.length)}`;

/** A definition is data only: it is settled from the start and never takes an event. */
const patternDefinitionMachine = setup({
  types: { context: {} as PatternDefinition, input: {} as PatternDefinition & { now: number } },
}).createMachine({
  id: 'troupe.pattern-definition',
  initial: 'stored',
  context: ({ input }) => ({ kind: input.kind, pattern: input.pattern, uses: input.uses }),
  states: { stored: { type: 'final' } },
});

export const PATTERN_DEFINITION_MACHINE: MachineDefinition = {
  kind: PATTERN_DEFINITION_KIND,
  machineId: 'troupe.pattern-definition',
  version: 1,
  machine: patternDefinitionMachine,
};

/** Definitions (by content hash) already checked to compile back to their kind, in this process. */
const reproducible = new Map<string, boolean>();

/** The definition of a compiled pattern's kind; the used patterns are read from `library`. */
export function definitionOf(kind: string, compiled: CompiledPattern, library: PatternLibrary): PatternDefinition {
  const uses = new Map<string, PatternDefinition['uses'][number]>();
  const pending = compiled.pattern.steps.flatMap((s) => ('use' in s ? [s.use] : []));
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const source = library.get(name);
    if (!source || uses.has(name)) continue;
    uses.set(name, { name, file: source.file, text: source.text });
    pending.push(...usesOf(source));
  }
  // As the store gives it back: plain JSON.
  return JSON.parse(
    JSON.stringify({
      kind,
      pattern: compiled.pattern,
      uses: [...uses.values()].sort((a, b) => a.name.localeCompare(b.name)),
    }),
  ) as PatternDefinition;
}

/** Compiles a stored definition again (with only the patterns it stored as its library). */
export function compileDefinition(definition: PatternDefinition): CompiledPattern {
  const library = new PatternLibrary();
  for (const used of definition.uses) library.add(used.text, used.file);
  const source = parsePatternSource(JSON.stringify(definition.pattern), `stored definition of ${definition.kind}`);
  return compilePattern(definition.pattern, source, { library });
}

export interface PatternDefinitionsOptions {
  host: ActorHost;
  store: Store;
  registered: RegisteredPatterns;
  logger: Logger;
}

/**
 * Keeps the definitions of the pattern kinds a runtime has run: stores each kind's definition
 * with its first run, and compiles a kind again from its stored definition when a stored run of
 * it is about to be restored (the host asks for the kinds it does not know).
 */
export class PatternDefinitions {
  /** Kinds this process knows to be stored (or found not to reproduce, and not stored). */
  private readonly stored = new Set<string>();

  constructor(private readonly options: PatternDefinitionsOptions) {}

  /**
   * Stores the definition of `kind` if it is not stored yet. The spawn is queued at once, so a
   * run spawned after this call commits with it or after it. Resolves once it is committed.
   */
  store(kind: string, compiled: CompiledPattern, library: PatternLibrary): Promise<void> {
    if (this.stored.has(kind)) return Promise.resolve();
    this.stored.add(kind);
    const definition = definitionOf(kind, compiled, library);
    if (!this.reproduces(definition)) {
      this.options.logger.warn(
        { kind },
        'this pattern does not compile to the same machine from its resolved form (compiled with another library or with stand-in inputs?); ' +
          'its unfinished runs need runtime.patterns.register before start() after a restart',
      );
      return Promise.resolve();
    }
    const spawned = this.options.host.spawn(PATTERN_DEFINITION_KIND, definitionIdOf(kind), { ...definition }, null);
    return spawned.then((outcome) => {
      // Already stored (by another runtime on the same store, or a run of this process racing us): the same content.
      if (!outcome.error || outcome.error.code === 'E_DUPLICATE_ID') return;
      this.stored.delete(kind);
      this.options.logger.error({ kind, err: outcome.error }, 'could not store the definition of a pattern kind');
    });
  }

  /**
   * Registers the pattern kinds among `kinds` from their stored definitions (one read for all).
   * A kind with no definition, or one that no longer compiles to it, stays unknown: restoring its
   * runs then fails with the registry's advice.
   */
  async resolve(kinds: string[]): Promise<void> {
    const wanted = kinds.filter((kind) => !this.options.registered.get(kind));
    if (wanted.length === 0) return;
    let found: Map<string, StoredActor>;
    try {
      found = await this.options.store.getActors(wanted.map(definitionIdOf));
    } catch (error) {
      // A store that cannot be read stops the runtime, as any read inside a batch does.
      throw storeReadError(error, 'pattern definitions');
    }
    for (const kind of wanted) {
      const record = found.get(definitionIdOf(kind));
      if (record?.kind !== PATTERN_DEFINITION_KIND) continue;
      const compiled = this.tryCompile(record.context as PatternDefinition);
      if (compiled === undefined || patternKindOf(compiled) !== kind) {
        this.options.logger.error(
          { kind },
          'the stored definition of a pattern kind no longer compiles to the same machine',
        );
        continue;
      }
      this.options.registered.register(compiled);
      this.stored.add(kind);
    }
  }

  /**
   * Whether compiling `definition` gives its kind back, as a restart would. Compiling costs a few
   * ms, so the answer is remembered for the process (by the definition's content).
   */
  private reproduces(definition: PatternDefinition): boolean {
    const key = createHash('sha256').update(JSON.stringify(definition)).digest('hex');
    let known = reproducible.get(key);
    if (known === undefined) {
      const again = this.tryCompile(definition);
      known = again !== undefined && patternKindOf(again) === definition.kind;
      reproducible.set(key, known);
    }
    return known;
  }

  private tryCompile(definition: PatternDefinition): CompiledPattern | undefined {
    try {
      return compileDefinition(definition);
    } catch (error) {
      this.options.logger.error({ kind: definition.kind, err: error }, 'a pattern definition failed to compile');
      return undefined;
    }
  }
}
