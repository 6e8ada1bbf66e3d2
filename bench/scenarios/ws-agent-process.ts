/**
 * The agent side of the `ws-dispatch` benchmark, in its own process: eight no-op agents for
 * throughput, one agent for serial dispatch latency, and a raw `ws` echo client for the round
 * trip it is compared with. Prints `ready` once all are connected; exits when stdin closes.
 *
 * Usage: node --import tsx bench/scenarios/ws-agent-process.ts <url> <token> <echo-url> <agents> <capacity>
 */
import { WebSocket } from 'ws';
import { connectAgent, type RemoteAgent } from '../../src/edge/sdk/index.js';

const [url, token, echoUrl, agentCount, capacity] = process.argv.slice(2) as [string, string, string, string, string];

const agents: RemoteAgent[] = await Promise.all(
  Array.from({ length: Number(agentCount) }, (_, i) =>
    connectAgent({
      url,
      token,
      id: `bench-${i}`,
      capabilities: ['noop'],
      capacity: Number(capacity),
      handler: () => null,
    }),
  ),
);
// process.hrtime reads CLOCK_MONOTONIC, which every process on the machine shares: the parent
// subtracts its own readings from this one.
agents.push(
  await connectAgent({
    url,
    token,
    id: 'bench-solo',
    capabilities: ['solo'],
    capacity: 1,
    handler: () => process.hrtime.bigint().toString(),
  }),
);
const echo = new WebSocket(echoUrl, { perMessageDeflate: false });
echo.on('message', (data) => echo.send(data as Buffer));
await new Promise((resolve) => echo.once('open', resolve));
process.stdout.write('ready\n');

process.stdin.resume();
process.stdin.on('end', () => {
  echo.close();
  void Promise.all(agents.map((a) => a.close())).then(() => process.exit(0));
});
