import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

/** What a JSON frame is to an agent that knows only the document. */
type Frame = { type: string; ref?: unknown; message?: string } & Record<string, unknown>;
import { startTestServer, AGENT_TOKEN, type TestServer } from './agent-conformance-helpers.js';

/**
 * An agent written from docs/protocol.md alone: plain `ws` and JSON, nothing from Troupe's
 * SDK. It connects with the subprotocol and a bearer token, says hello, accepts what it is
 * assigned, reports progress, and completes with a result, artifacts and a quality score.
 */
class HandWrittenAgent {
  private ref = 0;
  readonly log: string[] = [];
  private constructor(private readonly socket: WebSocket) {}

  static connect(url: string, token: string, agentId: string, capabilities: string[]): Promise<HandWrittenAgent> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, ['troupe.v1'], { headers: { Authorization: `Bearer ${token}` } });
      const agent = new HandWrittenAgent(socket);
      socket.on('error', reject);
      socket.on('open', () =>
        socket.send(JSON.stringify({ type: 'hello', ref: 'hello', agentId, capabilities, capacity: 1, held: [] })),
      );
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as Frame;
        agent.log.push(message.type);
        if (message.type === 'welcome') resolve(agent);
        else if (message.type === 'error' && message.ref === 'hello') reject(new Error(message.message));
        else if (message.type === 'assign') agent.work(message);
      });
    });
  }

  close(): void {
    this.socket.close(1000);
  }

  private send(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify({ ...message, ref: ++this.ref }));
  }

  private work(assign: Frame): void {
    const { taskId, leaseId, task, context } = assign as unknown as {
      taskId: string;
      leaseId: string;
      task: { type: string };
      context: {
        ticket: { phases: Record<string, { artifacts: Record<string, unknown> }> };
        artifacts: Record<string, unknown>;
      };
    };
    this.send({ type: 'accept', taskId, leaseId });
    this.send({ type: 'progress', taskId, leaseId, value: 0.5, message: `working on ${task.type}` });
    if (task.type === 'design') {
      this.send({
        type: 'complete',
        taskId,
        leaseId,
        result: { plan: 'three endpoints' },
        artifacts: { spec: 'GET /a, GET /b, POST /c' },
      });
    } else if (task.type === 'code') {
      // The design phase's output and this task's dependency arrive in the context package.
      const spec = context.ticket.phases.design?.artifacts.spec as string;
      this.send({
        type: 'complete',
        taskId,
        leaseId,
        result: { files: 3 },
        artifacts: { patch: `implements ${spec}` },
        quality: 0.9,
      });
    } else if (task.type === 'test') {
      const patch = context.artifacts.patch as string;
      this.send({ type: 'complete', taskId, leaseId, result: { passed: patch.length > 0 }, quality: 0.95 });
    } else {
      this.send({ type: 'fail', taskId, leaseId, error: `cannot do ${task.type}`, category: 'permanent' });
    }
  }
}

let t: TestServer;
afterEach(async () => t?.close());

describe('an agent written without the SDK', () => {
  it('completes a ticket through its phases, from the protocol document alone', async () => {
    t = await startTestServer();
    const agent = await HandWrittenAgent.connect(t.url, AGENT_TOKEN, 'hand-written', ['design', 'code']);
    const ticket = await t.runtime.tickets.create({
      id: 'FEAT-1',
      title: 'Add an API',
      phases: [
        {
          name: 'design',
          gate: { requiredArtifacts: ['spec'] },
          tasks: [{ id: 'd', type: 'design', requires: ['design'] }],
        },
        {
          name: 'build',
          gate: { requiredArtifacts: ['patch'], minQuality: 0.8 },
          tasks: [
            { id: 'c', type: 'code', requires: ['code'] },
            { id: 't', type: 'test', dependsOn: ['c'] },
          ],
        },
      ],
    });
    const done = await t.runtime.tickets.wait(ticket.id);
    expect(done.status).toBe('completed');
    expect(done.phaseOutputs.design?.artifacts).toEqual({ spec: 'GET /a, GET /b, POST /c' });
    expect(done.phaseOutputs.build?.results).toEqual({ c: { files: 3 }, t: { passed: true } });
    expect(agent.log.filter((type) => type === 'assign')).toHaveLength(3);
    expect(agent.log).not.toContain('error');
    agent.close();
  });
});
