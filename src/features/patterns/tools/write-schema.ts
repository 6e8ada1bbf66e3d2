import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { patternSchemaText } from '../format/pattern-json-schema.js';
import { builtInPatternDir } from '../load/library.js';

/**
 * Writes `patterns/pattern.schema.json` from the zod schema, so that editors check pattern files
 * as the loader does. Run it after changing the format:
 *
 *     npx tsx src/patterns/tools/write-schema.ts
 *
 * (`test/patterns-format.test.ts` fails while the committed file is out of date.)
 */
const target = join(builtInPatternDir(), 'pattern.schema.json');
writeFileSync(target, patternSchemaText());
console.log(`wrote ${target}`);
