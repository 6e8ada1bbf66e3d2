import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleDashboard } from './dashboard-assets.js';

/** `npm run build:ui`: writes the bundled dashboard to `dist/ui/` (shipped in the package). */
const dir = join(process.cwd(), 'dist', 'ui');
mkdirSync(dir, { recursive: true });
const assets = await bundleDashboard();
writeFileSync(join(dir, 'app.js'), assets.js);
writeFileSync(join(dir, 'app.css'), assets.css);
console.log(
  `dashboard: ${(assets.js.length / 1024).toFixed(1)} KiB script, ${(assets.css.length / 1024).toFixed(1)} KiB styles in ${dir}`,
);
