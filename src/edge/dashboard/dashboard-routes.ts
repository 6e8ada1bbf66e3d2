import type { Hono } from 'hono';
import { loadDashboard, type DashboardAssets } from './dashboard-assets.js';

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

const NOT_BUILT = 'The dashboard is not built: run `npm run build` (it writes dist/ui/).';

/**
 * `/ui`: the dashboard's page, script and styles. They hold no data and need no token; the
 * page signs in with an observer or client token and reads everything through `/v1`. The
 * assets are loaded on the first request (bundling from the sources costs ~0.3 s), not at start.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mounted on the API's Hono app, whatever its env
export function dashboardRoutes(app: Hono<any>, load: () => Promise<DashboardAssets | null> = loadDashboard): void {
  let assets: Promise<DashboardAssets | null> | null = null;
  const file =
    (pick: (a: DashboardAssets) => string, type: string) =>
    async (c: { body: (b: string, s: 200 | 503, h: Record<string, string>) => Response }) => {
      assets ??= load();
      const loaded = await assets;
      if (!loaded) return c.body(NOT_BUILT, 503, { 'Content-Type': 'text/plain; charset=utf-8' });
      return c.body(pick(loaded), 200, { 'Content-Type': type, 'Cache-Control': 'no-cache', ...SECURITY_HEADERS });
    };
  const page = file((a) => a.html, 'text/html; charset=utf-8');
  app.get('/ui', page);
  app.get('/ui/', page);
  app.get(
    '/ui/app.js',
    file((a) => a.js, 'text/javascript; charset=utf-8'),
  );
  app.get(
    '/ui/app.css',
    file((a) => a.css, 'text/css; charset=utf-8'),
  );
}
