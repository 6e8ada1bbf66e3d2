import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { problem, type PatternProblem, type ProblemLocation } from '../problems/problems.js';
import { WHOLE_VARIABLE_RE } from './variables.js';

export type DocPath = ReadonlyArray<string | number>;

/** A parsed pattern file: its data, and what is needed to say where anything in it is. */
export interface PatternSource {
  file: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** The document as plain data (undefined when the YAML could not be read). */
  data: unknown;
  problems: PatternProblem[];
}

/** Largest pattern file read, in characters: a pattern is a page or two, not a data set. */
export const MAX_PATTERN_CHARS = 1_000_000;

/**
 * `steps[2].join.strategy`: the path inside the document, as people write it.
 *
 * @example
 * ```ts
 * formatPath(['steps', 2, 'join', 'strategy']); // 'steps[2].join.strategy'
 * ```
 */
export function formatPath(path: DocPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * Parses YAML keeping positions. Syntax errors become problems with line and column; a file
 * whose only faults are duplicate keys is still read, so its other problems are reported too.
 *
 * @example
 * ```ts
 * const source = parsePatternSource(readFileSync('mine.yaml', 'utf8'), 'mine.yaml');
 * locate(source, ['steps', 2, 'join', 'strategy']); // { file: 'mine.yaml', line: 14, column: 17, path: 'steps[2].join.strategy' }
 * ```
 */
export function parsePatternSource(text: string, file: string): PatternSource {
  const lines = new LineCounter();
  if (text.length > MAX_PATTERN_CHARS) {
    const doc = parseDocument('', { lineCounter: lines });
    const at = { file, line: 1, column: 1, path: '' };
    return {
      file,
      text,
      doc,
      lines,
      data: undefined,
      problems: [
        problem('E_OUT_OF_RANGE', at, `the file has ${text.length} characters; at most ${MAX_PATTERN_CHARS} are read`),
      ],
    };
  }
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: PatternProblem[] = [];
  for (const error of doc.errors) {
    const offset = error.pos[0];
    const { line, col } = lines.linePos(offset);
    const at = { file, line, column: col, path: formatPath(pathAtOffset(doc, offset)) };
    if (error.code === 'DUPLICATE_KEY') {
      const key = keyAtOffset(doc, offset);
      problems.push(
        problem('E_DUPLICATE_KEY', at, `the key ${key === undefined ? '' : `"${key}" `}is given twice in one mapping`),
      );
    } else {
      // `{ input: ${x} }` is the common slip: in flow style the braces of a reference are syntax.
      const lineText = text.split('\n')[line - 1] ?? '';
      const hint = /[{[][^}\]]*\$\{/.test(lineText) ? ' (in { } or [ ], quote a value that holds ${...})' : '';
      problems.push(problem('E_YAML_SYNTAX', at, `not valid YAML: ${error.message.split('\n')[0]}${hint}`));
    }
  }
  const readable = doc.errors.every((e) => e.code === 'DUPLICATE_KEY');
  let data: unknown;
  if (readable) {
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      problems.push(
        problem('E_YAML_SYNTAX', { file, line: 1, column: 1, path: '' }, `not valid YAML: ${(error as Error).message}`),
      );
    }
  }
  return { file, text, doc, lines, data, problems };
}

/**
 * Where a path of the document is written. For a key (`which: 'key'`) the key's own position;
 * for a path that goes on past what is written (a missing key) the deepest node that exists;
 * for a path into a value that came from a whole `${var}`, the position of that reference.
 */
export function locate(source: PatternSource, path: DocPath, which: 'value' | 'key' = 'value'): ProblemLocation {
  let node: unknown = source.doc.contents;
  let best: Node | null = (node as Node | null) ?? null;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i] as string | number;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      if (last && which === 'key' && isScalar(pair.key)) {
        best = pair.key;
        break;
      }
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else break;
    if (!node) break;
    best = node as Node;
    if (isScalar(node) && typeof node.value === 'string' && WHOLE_VARIABLE_RE.test(node.value)) break;
  }
  const offset = best?.range?.[0] ?? 0;
  const { line, col } = source.lines.linePos(offset);
  return { file: source.file, line, column: col, path: formatPath(path) };
}

/**
 * `locate`, worked out only when read: the compiled statechart notes where every step is
 * written, but only the few that have problems are ever looked up. (A class, not an object
 * literal with getters: thousands are made per compile, and prototype getters cost nothing to make.)
 */
class LazyLocation implements ProblemLocation {
  private found: ProblemLocation | undefined;

  constructor(
    private readonly source: PatternSource,
    private readonly at: DocPath,
    private readonly which: 'value' | 'key',
  ) {}

  get file(): string {
    return this.source.file;
  }
  get line(): number {
    return this.resolve().line;
  }
  get column(): number {
    return this.resolve().column;
  }
  get path(): string {
    return formatPath(this.at);
  }

  private resolve(): ProblemLocation {
    this.found ??= locate(this.source, this.at, this.which);
    return this.found;
  }
}

export function lazyLocate(source: PatternSource, path: DocPath, which: 'value' | 'key' = 'value'): ProblemLocation {
  return new LazyLocation(source, path, which);
}

/** The path of the deepest node whose range holds `offset`. */
function pathAtOffset(doc: Document.Parsed, offset: number): Array<string | number> {
  const path: Array<string | number> = [];
  let node: unknown = doc.contents;
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && spans(p.key, offset, p.value));
      if (!pair || !isScalar(pair.key)) return path;
      path.push(String(pair.key.value));
      if (contains(pair.key, offset)) return path;
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => contains(item, offset));
      if (index < 0) return path;
      path.push(index);
      node = node.items[index];
    } else return path;
  }
}

function keyAtOffset(doc: Document.Parsed, offset: number): string | undefined {
  const path = pathAtOffset(doc, offset);
  const last = path[path.length - 1];
  return typeof last === 'string' ? last : undefined;
}

function contains(node: unknown, offset: number): boolean {
  const range = (node as Node | null)?.range;
  return range !== undefined && range !== null && offset >= range[0] && offset < range[2];
}

function spans(key: unknown, offset: number, value: unknown): boolean {
  const start = (key as Node | null)?.range?.[0];
  const end = (value as Node | null)?.range?.[2] ?? (key as Node | null)?.range?.[2];
  return start !== undefined && end !== undefined && offset >= start && offset < end;
}
