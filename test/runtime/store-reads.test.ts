import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DelegatingStore } from '../../src/engine/store/delegating-store.js';
import { SqliteStore } from '../../src/engine/store/sqlite-store.js';
import type { StoredActor } from '../../src/index.js';
import { harness, type Harness } from './helpers.js';

/** A SQLite store that counts the reads of actors by id (calls, and times each id was asked for). */
class CountingStore extends DelegatingStore {
  calls = 0;
  asked = new Map<string, number>();
  counting = false;
  override async getActor(id: string): Promise<StoredActor | undefined> {
    this.count([id]);
    return super.getActor(id);
  }
  override async getActors(ids: readonly string[]): Promise<Map<string, StoredActor>> {
    this.count(ids);
    return super.getActors(ids);
  }
  private count(ids: readonly string[]): void {
    if (!this.counting) return;
    this.calls += 1;
    for (const id of ids) this.asked.set(id, (this.asked.get(id) ?? 0) + 1);
  }
}

describe('reads of the store on the way of fan-out work', () => {
  let h: Harness | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await h?.runtime.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reads a split's children and their finished source a handful of times, not once per child", async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-reads-'));
    const store = new CountingStore(new SqliteStore({ path: join(dir, 'reads.db') }));
    h = await harness({ store });
    const sourceSeen: unknown[] = [];
    await h.runtime.agents.register({
      id: 'w',
      capacity: 100,
      handler: (task, ctx) => {
        if (task.id === 'source') return { plan: 'p-1' };
        sourceSeen.push(ctx.dependencies.source?.result);
        return null;
      },
    });
    await h.runtime.tasks.create({ id: 'source', type: 'plan' });
    await h.runtime.tasks.wait('source');
    await h.runtime.idle();
    const children = 500;
    store.counting = true;
    const split = await h.runtime.coordination.split({
      id: 'fan',
      sourceTaskId: 'source',
      targets: Array.from({ length: children }, () => ({ type: 'part' })),
    });
    await h.runtime.coordination.join({ id: 'fan-join', sources: { split: split.id } });
    await h.runtime.coordination.wait('fan-join');
    await h.runtime.idle();
    store.counting = false;
    // Every child got its source's output in its context package...
    expect(sourceSeen).toHaveLength(children);
    expect(new Set(sourceSeen.map((s) => JSON.stringify(s)))).toEqual(new Set([JSON.stringify({ plan: 'p-1' })]));
    // ...with the source read from the store at most once, and every other read shared by many ids.
    expect(store.asked.get('source') ?? 0).toBeLessThanOrEqual(1);
    expect(store.calls).toBeLessThan(20);
  });

  it("gives a reworked dependency's new output to its dependent's next round", async () => {
    h = await harness();
    const seenByReview: unknown[] = [];
    await h.runtime.agents.register({
      id: 'w',
      handler: (task, ctx) => {
        if (task.type === 'write') return { draft: ctx.round };
        seenByReview.push(ctx.dependencies.write?.result);
        ctx.quality(ctx.round === 1 ? 0.2 : 0.9);
        return null;
      },
    });
    const ticket = await h.runtime.tickets.create({
      title: 'rework',
      phases: [
        {
          name: 'draft',
          gate: { minQuality: 0.5 },
          maxRounds: 2,
          tasks: [
            { id: 'write', type: 'write' },
            { id: 'review', type: 'review', dependsOn: ['write'] },
          ],
        },
      ],
    });
    const done = await h.runtime.tickets.wait(ticket.id);
    expect(done.status).toBe('completed');
    // Round 2's review saw round 2's draft, not the one the host remembered from round 1.
    expect(seenByReview).toEqual([{ draft: 1 }, { draft: 2 }]);
  });
});
