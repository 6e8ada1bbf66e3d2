import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../src/index.js';
import { TroupeError } from '../src/core/errors.js';
import { fnv1a, placeTasks, shardOfId } from '../src/core/shard-placement.js';
import { shardBalance } from '../src/core/shard-balance.js';
import { PostgresStore } from '../src/engine/store/postgres-store.js';
import { shardLastSeq } from '../src/engine/store/postgres-sql.js';
import { routeRequest } from '../src/edge/cli/commands/shard-routing.js';
import { actor, batch, event } from './store-conformance.js';
import { usePostgresServer } from './support/postgres-server.js';

const server = usePostgresServer();
const silent = pino({ level: 'silent' });

describe('shard placement (pure)', () => {
  it('hashes ids with FNV-1a (the published 32-bit test vectors) and places them modulo the count', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
    expect(shardOfId('foobar', 4)).toBe(0xbf9cf968 % 4);
    expect(shardOfId('anything', 1)).toBe(0);
    // Ids spread over every shard.
    const seen = new Set(Array.from({ length: 200 }, (_, i) => shardOfId(`task-${i}`, 4)));
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
  });

  it("puts a dependent task in its dependency's shard and refuses dependencies of two shards", () => {
    const stored = new Map([
      ['a', 2],
      ['b', 3],
    ]);
    expect(placeTasks([{ id: 'c', dependsOn: ['a'] }], stored, 4, 0)).toEqual({ shard: 2 });
    expect(
      placeTasks(
        [
          { id: 'c', dependsOn: [{ id: 'a' }] },
          { id: 'd', dependsOn: ['c'] },
        ],
        stored,
        4,
        0,
      ),
    ).toEqual({
      shard: 2,
    });
    expect(placeTasks([{ id: 'x' }], stored, 4, 1)).toEqual({ shard: shardOfId('x', 4) });
    expect(placeTasks([{}], stored, 4, 1)).toEqual({ shard: 1 });
    expect(placeTasks([{ id: 'c', dependsOn: ['a', 'b'] }], stored, 4, 0)).toMatchObject({
      code: 'E_CROSS_SHARD_DEPENDENCY',
      message: expect.stringContaining('a (shard 2), b (shard 3)'),
    });
  });

  it('routes the HTTP API: reads anywhere, creates by placement, steering by the stored shard, redrives of one shard', async () => {
    const stored = new Map([
      ['t1', 3],
      ['t2', 1],
    ]);
    const lookup = async (ids: readonly string[]) =>
      new Map(ids.flatMap((id) => (stored.has(id) ? [[id, stored.get(id)!]] : [])));
    expect(await routeRequest('GET', '/v1/tasks/t1', undefined, 4, lookup, 0)).toEqual({ kind: 'any' });
    expect(await routeRequest('POST', '/v1/tasks/t1/cancel', {}, 4, lookup, 0)).toEqual({ kind: 'shard', shard: 3 });
    expect(await routeRequest('POST', '/v1/tasks', { id: 'n', dependsOn: ['t2'] }, 4, lookup, 0)).toEqual({
      kind: 'shard',
      shard: 1,
    });
    expect(await routeRequest('POST', '/v1/tickets', { id: 'TK' }, 4, lookup, 0)).toEqual({
      kind: 'shard',
      shard: shardOfId('TK', 4),
    });
    const foreign = shardOfId('TK', 4) === 3 ? 't2' : 't1';
    expect(
      await routeRequest(
        'POST',
        '/v1/tickets',
        { id: 'TK', phases: [{ tasks: [{ dependsOn: [foreign] }] }] },
        4,
        lookup,
        0,
      ),
    ).toMatchObject({ kind: 'refused', code: 'E_CROSS_SHARD_DEPENDENCY' });
    expect(await routeRequest('POST', '/v1/dead-letters/redrive', { ids: ['t1'] }, 4, lookup, 0)).toEqual({
      kind: 'shard',
      shard: 3,
    });
    expect(await routeRequest('POST', '/v1/dead-letters/redrive', { ids: ['t1', 't2'] }, 4, lookup, 0)).toMatchObject({
      kind: 'refused',
      status: 422,
    });
  });

  it('shares shards out between floor and ceiling of N / nodes, leaving free shards to a node below the floor', () => {
    const plan = (me: string, held: Record<string, number>, count = 4) =>
      shardBalance(count, new Map(Object.entries(held)), me);
    expect(plan('n1', { n1: 0 })).toEqual({ giveBack: false, take: 4 });
    expect(plan('n1', { n1: 4, n2: 0 })).toEqual({ giveBack: true, take: 0 });
    expect(plan('n2', { n1: 4, n2: 0 })).toEqual({ giveBack: false, take: 2 });
    // 2/2/0 is within ceil(4/3) = 2 for each, but n3 is below floor(4/3) = 1: one gives back.
    expect(plan('n1', { n1: 2, n2: 2, n3: 0 })).toEqual({ giveBack: true, take: 0 });
    // Having given one back, n1 does not take it again while n3 is below the floor; n3 takes it.
    expect(plan('n1', { n1: 1, n2: 2, n3: 0 })).toEqual({ giveBack: false, take: 0 });
    expect(plan('n3', { n1: 1, n2: 2, n3: 0 })).toEqual({ giveBack: false, take: 2 });
    expect(plan('n2', { n1: 1, n2: 2, n3: 1 })).toEqual({ giveBack: false, take: 0 });
    // More nodes than shards: at most one each.
    expect(plan('n5', { n1: 1, n2: 1, n3: 1, n4: 1, n5: 0 })).toEqual({ giveBack: false, take: 1 });
    expect(plan('n1', { n1: 2, n2: 1, n3: 1, n4: 0, n5: 0 })).toEqual({ giveBack: true, take: 0 });
  });

  it('numbers each shard in its own residue class, past every event in the table', () => {
    expect(shardLastSeq(0, 0, 4) + 4).toBe(1);
    expect(shardLastSeq(0, 3, 4) + 4).toBe(4);
    expect(shardLastSeq(10, 1, 4) + 4).toBe(14);
    expect(shardLastSeq(17, 2, 4) + 4).toBe(19);
    expect(shardLastSeq(17, 0, 1)).toBe(17);
    for (let max = 0; max < 30; max++)
      for (let k = 0; k < 4; k++) {
        const next = shardLastSeq(max, k, 4) + 4;
        expect(next).toBeGreaterThan(max);
        expect(next - 4).toBeLessThanOrEqual(max);
        expect(next % 4).toBe((k + 1) % 4);
      }
  });
});

describe('a PostgreSQL store scoped to a shard', () => {
  const stores: PostgresStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });
  async function open(url: string, index?: number): Promise<PostgresStore> {
    const store = new PostgresStore({ url, ...(index === undefined ? {} : { shard: { index, count: 4 } }) });
    await store.open();
    stores.push(store);
    return store;
  }

  it("restores only its shard's actors and timers, reads every shard, and never writes another shard's actor", async () => {
    const url = await server().createDatabase();
    const [s0, s1, whole] = [await open(url, 0), await open(url, 1), await open(url)];
    expect(s0.eventSeqStride).toBe(4);
    expect(whole.eventSeqStride).toBe(1);
    await s0.commit(
      batch({
        actors: [actor('a0')],
        timersSet: [{ actorId: 'a0', name: 'start', at: 5 }],
        events: [event(1, { taskId: 'a0' })],
      }),
    );
    await s1.commit(
      batch({
        actors: [actor('a1')],
        timersSet: [{ actorId: 'a1', name: 'start', at: 6 }],
        events: [event(2, { taskId: 'a1' })],
      }),
    );
    expect((await s0.loadLive()).map((a) => a.id)).toEqual(['a0']);
    expect((await s1.loadLive()).map((a) => a.id)).toEqual(['a1']);
    expect(await s1.loadTimers()).toEqual([{ actorId: 'a1', name: 'start', at: 6 }]);
    expect((await whole.loadLive()).map((a) => a.id)).toEqual(['a0', 'a1']);
    expect((await s0.getActors(['a0', 'a1'])).size).toBe(2);
    expect(await s1.actorShards(['a0', 'a1', 'nope'])).toEqual(
      new Map([
        ['a0', 0],
        ['a1', 1],
      ]),
    );
    // Shard 1 numbers past the table's last event, in its own residue class.
    expect(await s1.lastEventSeq()).toBe(2);
    expect(await s0.lastEventSeq()).toBe(1);

    // Shard 1 writing shard 0's actor: refused whole, nothing written, the store fails.
    const error = await s1
      .commit(batch({ actors: [actor('a0', { version: 9 }), actor('a2')], events: [event(6)] }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TroupeError);
    expect(error).toMatchObject({ code: 'E_STORE', details: { wrongShard: true, id: 'a0', shard: 0 } });
    expect((await whole.getActor('a0'))?.version).toBe(1);
    expect(await whole.getActor('a2')).toBeUndefined();
    expect((await whole.readEvents({})).map((e) => e.seq)).toEqual([2, 1]);
  });

  it("refuses a task that would wait on another shard's unfinished task, and lets it depend on a finished one", async () => {
    const url = await server().createDatabase();
    const [s0, s1] = [await open(url, 0), await open(url, 1)];
    const [r0, r1] = [createRuntime({ store: s0, logger: silent }), createRuntime({ store: s1, logger: silent })];
    await r0.start();
    await r1.start();
    try {
      await r0.tasks.create({ id: 'there', type: 'x', requires: ['nobody'] }); // stays queued in shard 0
      await r0.agents.register({ id: 'w', capabilities: ['done'], handler: () => 'ok' });
      await r0.tasks.create({ id: 'finished', type: 'x', requires: ['done'] });
      await r0.tasks.wait('finished');
      await r0.idle();
      // Shard 1 would never hear how 'there' ends: refused, nothing written.
      await expect(r1.tasks.create({ id: 'here', type: 'y', dependsOn: ['there'] })).rejects.toMatchObject({
        code: 'E_CROSS_SHARD_DEPENDENCY',
      });
      expect(await s1.getActor('here')).toBeUndefined();
      // A finished task of another shard is only read: its outcome is in the store.
      await r1.agents.register({ id: 'v', capabilities: ['after'], handler: () => 'next' });
      await r1.tasks.create({ id: 'after', type: 'y', requires: ['after'], dependsOn: ['finished'] });
      expect((await r1.tasks.wait('after')).status).toBe('succeeded');
    } finally {
      await r1.stop();
      await r0.stop();
    }
  });

  it('keeps the shard count once set', async () => {
    const url = await server().createDatabase();
    const store = await open(url);
    expect(await store.clusterShards()).toBeUndefined();
    expect(await store.clusterShards(4)).toBe(4);
    expect(await store.clusterShards(8)).toBe(4);
    expect(await store.clusterShards()).toBe(4);
  });
});
