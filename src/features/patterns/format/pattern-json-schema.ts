import { z } from 'zod';
import { patternSchema } from './pattern.js';

/** A whole-string `${name}` reference, which may stand where any type of value is expected. */
const VARIABLE_REF = {
  type: 'string',
  pattern: '^\\$\\{[A-Za-z_][A-Za-z0-9_.]*\\}$',
  description: 'an ${input} reference',
};

const NON_STRING = new Set(['integer', 'number', 'boolean', 'array', 'object']);

type JsonSchema = Record<string, unknown>;

/**
 * Lets a `${var}` string stand in for any non-string value, as the loader does, so that an
 * editor does not flag `k: ${k}`. Keys that are structure (`properties`, `$defs`) are walked into
 * but never wrapped themselves.
 */
function allowVariables(node: unknown, key = ''): unknown {
  if (Array.isArray(node)) return node.map((n) => allowVariables(n));
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node as JsonSchema)) {
    if (k === 'properties' || k === '$defs' || k === 'patternProperties') {
      out[k] = Object.fromEntries(Object.entries(v as JsonSchema).map(([name, s]) => [name, allowVariables(s, name)]));
    } else out[k] = allowVariables(v, k);
  }
  const type = out.type;
  if (key !== 'propertyNames' && typeof type === 'string' && NON_STRING.has(type))
    return { anyOf: [out, VARIABLE_REF] };
  return out;
}

/**
 * The pattern format as JSON Schema (draft 2020-12), generated from the zod schema, for editors:
 * put `# yaml-language-server: $schema=./pattern.schema.json` at the top of a pattern file.
 *
 * @example
 * ```ts
 * writeFileSync('patterns/pattern.schema.json', JSON.stringify(patternJsonSchema(), null, 2) + '\n');
 * ```
 */
export function patternJsonSchema(): JsonSchema {
  const generated = z.toJSONSchema(patternSchema, { unrepresentable: 'any', io: 'input' }) as JsonSchema;
  const { $schema, $defs, properties, ...rest } = generated as {
    $schema: string;
    $defs: JsonSchema;
    properties: JsonSchema;
  };
  // Only values under `steps` may hold variables: the name and the inputs are never substituted.
  const steps = properties.steps as JsonSchema;
  const body = {
    ...rest,
    properties: { ...properties, steps: { ...steps, items: allowVariables(steps.items) } },
    $defs: Object.fromEntries(Object.entries($defs).map(([name, s]) => [name, allowVariables(s)])),
  };
  return {
    $schema,
    $id: 'https://troupe.dev/schemas/pattern.schema.json',
    title: 'Troupe pattern',
    description:
      'A Troupe coordination pattern. Values may hold ${input} references, substituted on the parsed document.',
    ...body,
  };
}

/**
 * The JSON Schema as the text of `patterns/pattern.schema.json`, for editors and other tools.
 *
 * @example
 * ```ts
 * writeFileSync('pattern.schema.json', patternSchemaText());
 * ```
 */
export function patternSchemaText(): string {
  return `${JSON.stringify(patternJsonSchema(), null, 2)}\n`;
}
