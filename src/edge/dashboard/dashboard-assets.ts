import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The dashboard's files as served: one script and one stylesheet, with the page that loads them. */
export interface DashboardAssets {
  html: string;
  js: string;
  css: string;
}

const here = dirname(fileURLToPath(import.meta.url));
/** Present when running from the TypeScript sources (tests, `npm start`); absent in a built package. */
const sourceEntry = join(here, 'app', 'main.tsx');

/** The page: no inline script or style, so the Content-Security-Policy can be `'self'` only. */
export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Troupe</title>
<link rel="stylesheet" href="/ui/app.css">
</head>
<body>
<div id="app"></div>
<script type="module" src="/ui/app.js"></script>
</body>
</html>
`;
}

/**
 * Bundles the dashboard from its sources with esbuild (a build-time tool: `npm run build` calls
 * this to write `dist/ui/`, and a server running from the sources calls it once at start).
 */
export async function bundleDashboard(): Promise<DashboardAssets> {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    entryPoints: [sourceEntry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    outfile: 'app.js',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = out.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
  return { html: dashboardHtml(), js, css: readFileSync(join(here, 'app', 'styles.css'), 'utf8') };
}

/** `dist/ui/` of the package, found from this file whether it runs from `src/` or `dist/src/`. */
function builtDir(): string | null {
  let dir = here;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'dist', 'ui');
    if (existsSync(join(dir, 'package.json'))) return existsSync(join(candidate, 'app.js')) ? candidate : null;
    dir = resolve(dir, '..');
  }
  return null;
}

/**
 * The dashboard for this process: bundled from the sources when they are here (so what is served
 * is what the sources say), else read from the package's `dist/ui/`; null when neither exists.
 */
export async function loadDashboard(): Promise<DashboardAssets | null> {
  if (existsSync(sourceEntry)) return bundleDashboard();
  const dir = builtDir();
  if (!dir) return null;
  return {
    html: dashboardHtml(),
    js: readFileSync(join(dir, 'app.js'), 'utf8'),
    css: readFileSync(join(dir, 'app.css'), 'utf8'),
  };
}
