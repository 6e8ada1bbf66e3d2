import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './agent-conformance-helpers.js';

/** Per-token rate limits of the HTTP API, on the runtime's simulated clock (time moves only when the test says). */
const CLIENT_A = 'client-token-a-for-limits-01';
const CLIENT_B = 'client-token-b-for-limits-01';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const get = (token: string) =>
  fetch(`${t?.server.httpUrl}/v1/tasks`, { headers: { Authorization: `Bearer ${token}` } });

describe('HTTP rate limits', () => {
  it('refuse a token past its burst with 429 and Retry-After, leave other tokens alone, and refill with time', async () => {
    t = await startTestServer({
      server: { clientTokens: [CLIENT_A, CLIENT_B], httpRateLimit: { requestsPerSecond: 2, burst: 3 } },
    });
    for (let i = 0; i < 3; i++) expect((await get(CLIENT_A)).status).toBe(200);
    const limited = await get(CLIENT_A);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toMatchObject({ error: { code: 'E_RATE_LIMITED', retryable: true } });
    expect((await get(CLIENT_B)).status).toBe(200);
    await t.clock.advance(500);
    expect((await get(CLIENT_A)).status).toBe(200);
    expect((await get(CLIENT_A)).status).toBe(429);
  });

  it('a body limit set lower refuses a larger body with 413 before it is read whole', async () => {
    t = await startTestServer({ server: { clientTokens: [CLIENT_A], maxBodyBytes: 2_048 } });
    const response = await fetch(`${t.server.httpUrl}/v1/tasks`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${CLIENT_A}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'big', input: 'x'.repeat(4_096) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'E_PAYLOAD_TOO_LARGE', path: ['body'] } });
    expect(await t.runtime.tasks.list()).toEqual([]);
  });
});
