/**
 * Keys computed from a task: a concurrency key such as `${input.tenant}` or
 * `repo:${input.repo.owner}/${input.repo.name}`. A key without `${` is taken as it is.
 * Pure: a dotted path over plain JSON, nothing evaluated.
 */

const PLACEHOLDER = /\$\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*\}/g;

/** The paths a key template reads (for checks before any task exists). */
export function keyPaths(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/** The value at a dotted path, or undefined. */
function at(source: unknown, path: string): unknown {
  let value = source;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * The key for one task: each `${path}` replaced by the value at that path of `fields` (for a
 * task: `type`, `ticketId`, `phase`, `priority`, `input`). A path with no value, or an object
 * there, yields `null`: the caller refuses the task rather than put it under a made-up key.
 */
export function resolveKey(template: string, fields: Record<string, unknown>): string | null {
  if (!template.includes('${')) return template;
  let missing = false;
  const key = template.replace(PLACEHOLDER, (_m, path: string) => {
    const value = at(fields, path);
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    missing = true;
    return '';
  });
  return missing ? null : key;
}
