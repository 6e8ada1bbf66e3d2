import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { harness, type Harness } from './helpers.js';

describe('tickets, phases and gates', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('moves through phases in order, handing each phase output to the next', async () => {
    h = await harness();
    const seenPhases: Record<string, string[]> = {};
    await h.runtime.agents.register({
      id: 'w',
      handler: (task, ctx) => {
        seenPhases[task.id] = Object.keys(ctx.ticket?.phases ?? {});
        ctx.artifact(`${task.id}-doc`, task.id.toUpperCase());
        return { from: task.id, repo: ctx.ticket?.context.repo };
      },
    });
    const ticket = await h.runtime.tickets.create({
      title: 'feature',
      context: { repo: 'acme/app' },
      phases: [
        { name: 'design', tasks: [{ id: 'spec', type: 'write' }] },
        { name: 'build', tasks: [{ id: 'code', type: 'write' }] },
      ],
    });
    const done = await h.runtime.tickets.wait(ticket.id);
    expect(done.status).toBe('completed');
    expect(seenPhases).toEqual({ spec: [], code: ['design'] });
    expect(done.phaseOutputs.design).toEqual({
      results: { spec: { from: 'spec', repo: 'acme/app' } },
      artifacts: { 'spec-doc': 'SPEC' },
    });
    expect(h.of('ticket.phase_changed').map((e) => e.data.phase)).toEqual(['build']);
    const order = h.events
      .filter((e) => e.type === 'phase.passed' || e.type === 'phase.opened')
      .map((e) => `${e.type}:${e.phase}`);
    expect(order).toEqual(['phase.opened:design', 'phase.passed:design', 'phase.opened:build', 'phase.passed:build']);
  });

  it('gives a ticket the default phases when none are given', async () => {
    h = await harness();
    const ticket = await h.runtime.tickets.create({ title: 'defaults' });
    expect(ticket.phases.map((p) => p.name)).toEqual(['requirements', 'implementation', 'testing']);
    expect(ticket.currentPhase).toBe('requirements');
    expect(ticket.phases.map((p) => p.status)).toEqual(['active', 'pending', 'pending']);
  });

  it('rejects a phase whose quality is too low, reworks it with the feedback, then passes', async () => {
    h = await harness();
    const feedbackSeen: Array<string | null> = [];
    await h.runtime.agents.register({
      id: 'w',
      handler: (_task, ctx) => {
        feedbackSeen.push(ctx.feedback);
        ctx.quality(ctx.round === 1 ? 0.5 : 0.92);
        return { round: ctx.round };
      },
    });
    const ticket = await h.runtime.tickets.create({
      title: 'quality',
      phases: [{ name: 'impl', gate: { minQuality: 0.8 }, maxRounds: 3, tasks: [{ id: 'work', type: 'write' }] }],
    });
    const done = await h.runtime.tickets.wait(ticket.id);
    expect(done.status).toBe('completed');
    expect(feedbackSeen).toEqual([null, 'quality 0.5 is below 0.8']);
    expect(done.phases[0]).toMatchObject({ status: 'passed', round: 2, quality: 0.92 });
    expect(h.of('phase.rejected')[0]?.data).toMatchObject({ reasons: ['quality 0.5 is below 0.8'], nextRound: 2 });
    expect((await h.runtime.tasks.get('work')).result).toEqual({ round: 2 });
  });

  it('fails the phase and the ticket when the rounds run out', async () => {
    h = await harness();
    await h.runtime.agents.register({ id: 'w', handler: () => 'no artifact' });
    const ticket = await h.runtime.tickets.create({
      title: 'never enough',
      phases: [
        { name: 'impl', gate: { requiredArtifacts: ['patch'] }, maxRounds: 2, tasks: [{ id: 'x', type: 't' }] },
        'later',
      ],
    });
    const done = await h.runtime.tickets.wait(ticket.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toBe('phase impl failed: required artifact "patch" is missing');
    expect(done.phases.map((p) => p.status)).toEqual(['failed', 'pending']);
    expect(h.of('phase.rejected')).toHaveLength(1);
  });

  it('asks a validator task last, and reworks the phase when it rejects', async () => {
    h = await harness();
    let reviews = 0;
    await h.runtime.agents.register({ id: 'dev', capabilities: ['code'], handler: (_t, ctx) => `patch v${ctx.round}` });
    await h.runtime.agents.register({
      id: 'reviewer',
      capabilities: ['review'],
      handler: (task, ctx) => {
        reviews += 1;
        expect(task.role).toBe('validator');
        const patch = ctx.ticket ? 'seen' : 'missing';
        return reviews === 1 ? { approved: false, feedback: `needs tests (${patch})` } : { approved: true };
      },
    });
    const ticket = await h.runtime.tickets.create({
      title: 'reviewed',
      phases: [
        {
          name: 'impl',
          gate: { validator: { type: 'review', requires: ['review'] } },
          tasks: [{ id: 'patch', type: 'code', requires: ['code'] }],
        },
      ],
    });
    const done = await h.runtime.tickets.wait(ticket.id);
    expect(done.status).toBe('completed');
    expect(reviews).toBe(2);
    expect((await h.runtime.tasks.get('patch')).feedback).toBe('needs tests (seen)');
    expect((await h.runtime.tasks.get('patch')).result).toBe('patch v2');
    expect(h.of('phase.rejected')[0]?.data.reasons).toEqual(['validator rejected: needs tests (seen)']);
  });

  it('reworks failed tasks and their skipped dependents in dependency order', async () => {
    h = await harness();
    const runs: string[] = [];
    await h.runtime.agents.register({
      id: 'w',
      handler: (task, ctx) => {
        runs.push(`${task.id}@${ctx.round}`);
        if (task.id === 'base' && ctx.round === 1) throw new Error('flaky infra');
        return 'ok';
      },
    });
    const ticket = await h.runtime.tickets.create({
      title: 'rework chain',
      phases: [
        {
          name: 'impl',
          tasks: [
            { id: 'base', type: 't', retry: { maxAttempts: 1 } },
            { id: 'top', type: 't', dependsOn: ['base'] },
          ],
        },
      ],
    });
    const done = await h.runtime.tickets.wait(ticket.id);
    expect(done.status).toBe('completed');
    expect(runs).toEqual(['base@1', 'base@2', 'top@2']);
  });

  it('shares state across the tasks of a ticket', async () => {
    h = await harness();
    let shared: unknown;
    await h.runtime.agents.register({
      id: 'w',
      handler: (_t, ctx) => {
        shared = ctx.ticket?.shared;
      },
    });
    const ticket = await h.runtime.tickets.create({ title: 's', phases: ['one'] });
    await h.runtime.tickets.setShared(ticket.id, 'schemaVersion', 7);
    await h.runtime.tasks.create({ id: 'reader', type: 't', ticketId: ticket.id, phase: 'one' });
    await h.runtime.tasks.wait('reader');
    expect(shared).toEqual({ schemaVersion: 7 });
  });
});

describe('creating a ticket', () => {
  let h: Harness;
  afterEach(async () => h.runtime.stop());

  it('creates the ticket, its phases and the tasks of its plan in one commit', async () => {
    const batches: string[][] = [];
    const store = new MemoryStore();
    const commit = store.commit.bind(store);
    store.commit = async (batch) => {
      batches.push(batch.actors.map((a) => a.id));
      await commit(batch);
    };
    h = await harness({ store });
    await h.runtime.tickets.create({
      id: 'tk',
      title: 'one step',
      phases: [
        { name: 'design', tasks: [{ id: 'spec', type: 'write' }] },
        {
          name: 'build',
          tasks: [
            { id: 'code', type: 'write' },
            { id: 'test', type: 'check', dependsOn: ['code'] },
          ],
        },
      ],
    });
    const withTicket = batches.find((ids) => ids.includes('tk'));
    expect(withTicket).toEqual(expect.arrayContaining(['tk', 'tk/design', 'tk/build', 'spec', 'code', 'test']));
  });

  it('leaves nothing behind when the plan is refused: no ticket, no phase, no task', async () => {
    h = await harness();
    await expect(
      h.runtime.tickets.create({
        id: 'bad',
        title: 'refused plan',
        phases: [
          {
            name: 'design',
            tasks: [
              { id: 'ok', type: 'write' },
              { id: 'x', type: 'write', dependsOn: ['missing'] },
            ],
          },
        ],
      }),
    ).rejects.toMatchObject({ code: 'E_MISSING_DEPENDENCY' });
    await expect(h.runtime.tickets.get('bad')).rejects.toMatchObject({ code: 'E_UNKNOWN_TICKET' });
    expect(await h.runtime.tasks.list()).toEqual([]);
    expect(await h.runtime.core.options.store.listActors({})).toEqual([]);
    expect(h.events).toEqual([]);
  });

  it("refuses a plan task whose id is the ticket's or a phase's, before creating anything", async () => {
    h = await harness();
    await expect(
      h.runtime.tickets.create({
        id: 'tk',
        title: 'clash',
        phases: [{ name: 'design', tasks: [{ id: 'tk/design', type: 'write' }] }],
      }),
    ).rejects.toMatchObject({ code: 'E_DUPLICATE_ID' });
    expect(await h.runtime.core.options.store.listActors({})).toEqual([]);
  });

  it('a store failing at any commit during creation leaves all of it or none of it', async () => {
    const all = ['spec', 'tk', 'tk/build', 'tk/design', 'code'].sort();
    for (const failAt of [1, 2, 3]) {
      const store = new MemoryStore();
      h = await harness({ store });
      let commits = 0;
      const commit = store.commit.bind(store);
      store.commit = async (batch) => {
        commits += 1;
        if (commits >= failAt) throw new Error('power cut');
        await commit(batch);
      };
      await h.runtime.tickets
        .create({
          id: 'tk',
          title: 'lost',
          phases: [
            { name: 'design', tasks: [{ id: 'spec', type: 'write' }] },
            { name: 'build', tasks: [{ id: 'code', type: 'write' }] },
          ],
        })
        .catch(() => undefined);
      const stored = (await MemoryStore.prototype.listActors.call(store, {})).map((a) => a.id).sort();
      expect([[], all]).toContainEqual(stored);
      await h.runtime.stop();
    }
  });
});
