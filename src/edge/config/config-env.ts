import { configSchema } from './config-schema.js';

/** `deadLettered` -> `DEAD_LETTERED`. */
const upper = (segment: string) => segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** The environment variable of a configuration path: `retention.deadLettered` -> `TROUPE_RETENTION_DEAD_LETTERED`. */
export function envNameOf(path: readonly string[]): string {
  return `TROUPE_${path.map(upper).join('_')}`;
}

/** Options with no default, so absent from the defaults the other names are read from. */
const OPTIONAL_PATHS: ReadonlyArray<readonly string[]> = [
  ['retention', 'events'],
  ['retention', 'deadLetteredMaxCount'],
];

/**
 * Every configuration path that can come from the environment: each section and each option
 * in it (`TROUPE_LIMITS_RATE_LIMIT='{"messagesPerSecond":100,"burst":200}'` or
 * `TROUPE_LIMITS_RATE_LIMIT_BURST=200`), worked out from the schema's defaults so a new option
 * gets its variable without a list to keep up.
 */
export function configEnvPaths(): Array<readonly string[]> {
  const paths: Array<readonly string[]> = [];
  const walk = (value: unknown, path: string[]) => {
    if (path.length > 0) paths.push(path);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
  };
  walk(configSchema.parse({}), []);
  return [...paths, ...OPTIONAL_PATHS];
}

/** An environment variable's text as a value: JSON when it reads as JSON (`7411`, `false`, `[...]`), else the text. */
function envValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** What the environment sets: one entry per variable present, shallow paths first (deeper ones refine them). */
export function readConfigEnv(
  env: NodeJS.ProcessEnv,
): Array<{ name: string; path: readonly string[]; value: unknown }> {
  const found: Array<{ name: string; path: readonly string[]; value: unknown }> = [];
  for (const path of configEnvPaths().sort((a, b) => a.length - b.length)) {
    const name = envNameOf(path);
    const text = env[name];
    if (text !== undefined && text !== '') found.push({ name, path, value: envValue(text) });
  }
  return found;
}
