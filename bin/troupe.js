#!/usr/bin/env node
// The `troupe` command. In a clone (src/ is there) it runs the TypeScript source through tsx, so
// that `npx troupe` works right after `npm ci` with no build step and never runs a stale dist/.
// An installed package ships dist/ and no src/, and runs the compiled CLI.
import { existsSync } from 'node:fs';

const source = new URL('../src/edge/cli/main.ts', import.meta.url);
const built = new URL('../dist/src/edge/cli/main.js', import.meta.url);

async function tsxRegister() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch {
    return null; // a clone installed without dev dependencies
  }
}

const register = existsSync(source) ? await tsxRegister() : null;
if (register) {
  register();
  await import(source.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  console.error('troupe: neither the TypeScript source with tsx (npm ci) nor a build (npm run build) is here');
  process.exitCode = 1;
}
