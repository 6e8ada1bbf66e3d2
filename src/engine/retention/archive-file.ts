import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { TroupeError } from '../../core/errors.js';
import type { UnitRecord } from '../store/store.js';

/**
 * The archive: finished units as JSON Lines, one file per UTC day of the sweep
 * (`troupe-archive-2026-12-05.jsonl`), one unit per line:
 * `{"v":1,"archivedAt":…,"kind":"ticket","id":"…","actors":[…],"events":[…]}`.
 * Any tool that reads JSON Lines reads it; `troupe import` puts units back into a store.
 */
export interface ArchiveLine extends UnitRecord {
  v: 1;
  archivedAt: number;
}

/** The archive file for a clock time. */
export function archiveFileFor(dir: string, at: number): string {
  return join(dir, `troupe-archive-${new Date(at).toISOString().slice(0, 10)}.jsonl`);
}

/**
 * Appends units to the day's file and syncs it to disk before returning: the sweeper deletes
 * a unit only once its line is durable.
 */
export async function appendToArchive(dir: string, at: number, units: readonly UnitRecord[]): Promise<string> {
  const file = archiveFileFor(dir, at);
  if (units.length === 0) return file;
  await mkdir(dir, { recursive: true });
  const text = units.map((u) => JSON.stringify({ v: 1, archivedAt: at, ...u } satisfies ArchiveLine)).join('\n') + '\n';
  const handle = await open(file, 'a');
  try {
    await handle.write(text);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return file;
}

const lineSchema = z.object({
  v: z.literal(1),
  archivedAt: z.number(),
  kind: z.enum(['ticket', 'actor']),
  id: z.string().min(1),
  actors: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      machineId: z.string(),
      version: z.int(),
      state: z.unknown(),
      context: z.unknown(),
      settled: z.boolean(),
      ticketId: z.string().nullable(),
      updatedAt: z.number(),
    }),
  ),
  events: z.array(
    z.object({
      seq: z.int(),
      type: z.string(),
      at: z.number(),
      ticketId: z.string().nullable(),
      taskId: z.string().nullable(),
      agentId: z.string().nullable(),
      phase: z.string().nullable(),
      data: z.record(z.string(), z.unknown()),
    }),
  ),
});

/**
 * Reads an archive file unit by unit; a line that is not an archived unit throws `E_INVALID_INPUT` naming file and line.
 *
 * @example
 * ```ts
 * import { readArchive } from 'troupe';
 *
 * for await (const unit of readArchive('archive/troupe-archive-2026-12-05.jsonl')) console.log(unit.kind, unit.id, unit.events.length);
 * ```
 */
export async function* readArchive(file: string): AsyncGenerator<UnitRecord> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n += 1;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new TroupeError('E_INVALID_INPUT', `${file}:${n}: not JSON: ${(error as Error).message}`);
    }
    const parsed = lineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new TroupeError(
        'E_INVALID_INPUT',
        `${file}:${n}: not an archived unit: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
      );
    }
    const { v: _v, archivedAt: _at, ...unit } = parsed.data;
    yield unit as UnitRecord;
  }
}
