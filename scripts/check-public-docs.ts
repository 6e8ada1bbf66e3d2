/**
 * Every name the package exports carries JSDoc, and every exported function and class an
 * `@example` too: the public API is documented where an editor shows it. The entry points are
 * read from package.json's `exports`, so a new entry point is checked without editing this file.
 * Run by `npm run lint`; prints one line per missing doc and exits 1.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

interface ExportTarget {
  import?: string;
}

const root = path.resolve(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | ExportTarget>;
};

/** `./dist/src/edge/sdk/index.js` → `src/edge/sdk/index.ts`; non-code exports are skipped. */
const entries = Object.values(manifest.exports)
  .map((target) => (typeof target === 'string' ? undefined : target.import))
  .filter((file): file is string => file !== undefined && file.startsWith('./dist/src/'))
  .map((file) => path.join(root, file.replace('./dist/', '').replace(/\.js$/, '.ts')));

const config = ts.getParsedCommandLineOfConfigFile(
  path.join(root, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
if (config === undefined) throw new Error('tsconfig.json could not be read');
const program = ts.createProgram(entries, config.options);
const checker = program.getTypeChecker();

const problems: string[] = [];
for (const entry of entries) {
  const source = program.getSourceFile(entry);
  const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
  if (module === undefined) {
    problems.push(`${path.relative(root, entry)}: entry point not found`);
    continue;
  }
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declaration = symbol.declarations?.[0];
    const where =
      declaration === undefined
        ? path.relative(root, entry)
        : `${path.relative(root, declaration.getSourceFile().fileName)}:${
            declaration.getSourceFile().getLineAndCharacterOfPosition(declaration.getStart()).line + 1
          }`;
    const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
    if (text === '') {
      problems.push(`${where}: ${exported.name} (exported by ${path.relative(root, entry)}) has no JSDoc`);
      continue;
    }
    const callable = (symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class)) !== 0;
    if (callable && !symbol.getJsDocTags(checker).some((tag) => tag.name === 'example')) {
      problems.push(`${where}: ${exported.name} (exported by ${path.relative(root, entry)}) has no @example`);
    }
  }
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  console.error(
    `\n${problems.length} public export(s) without documentation: add JSDoc (and an @example on functions and classes).`,
  );
  process.exit(1);
}
console.log(`public API documented: ${entries.length} entry points checked`);
