import { z } from 'zod';
import { patternNameSchema } from './common.js';
import { STEP_SCHEMAS, type Step } from './steps.js';

export const INPUT_TYPES = ['string', 'number', 'integer', 'boolean', 'list', 'object'] as const;
/** The type of a pattern input. */
export type InputType = (typeof INPUT_TYPES)[number];

export const inputDeclSchema = z.strictObject({
  type: z.enum(INPUT_TYPES),
  description: z.string().optional(),
  /** Used when no value is given; an input without default is required. */
  default: z.unknown().optional(),
  /** Type of each item of a list. */
  items: z.enum(['string', 'number', 'integer', 'boolean', 'object']).optional(),
  /** Least value of a number, or least length of a list or string. */
  min: z.number().optional(),
  max: z.number().optional(),
});
/** An input a pattern declares: its type, default, and whether it is required. */
export type InputDecl = z.output<typeof inputDeclSchema>;

export const inputNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'input names are letters, digits and _');

const stepSchema = z.union(Object.values(STEP_SCHEMAS) as unknown as [z.ZodType<Step>, ...Array<z.ZodType<Step>>]);

/**
 * A pattern file: a named, described list of steps with typed inputs. This one schema is the
 * format: the loader validates against it (step by step, for precise errors), the JSON Schema for
 * editors is generated from it, and the TypeScript types are inferred from it.
 */
export const patternSchema = z.strictObject({
  name: patternNameSchema,
  description: z.string().max(100_000).optional(),
  inputs: z.record(inputNameSchema, inputDeclSchema).optional(),
  steps: z.array(stepSchema).min(1, 'a pattern has at least one step'),
});

/** The top level alone, with the steps left for the step-by-step check. */
export const patternHeadSchema = patternSchema.extend({
  steps: z.array(z.unknown()).min(1, 'a pattern has at least one step'),
});

/** A valid pattern with every `${var}` substituted. */
export type Pattern = z.output<typeof patternSchema>;
