/**
 * BullMQ with Redis AOF: `tasks` no-op jobs added in batches of 1,000 (addBulk), one Worker with
 * the given concurrency in the same process; from the first add to the last completion.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

export async function runBullmq({ port, tasks, concurrency, name = `bench-${Date.now()}` }) {
  // BullMQ 6 takes a constructed client in native ESM; the worker's blocking connection needs
  // maxRetriesPerRequest: null.
  const producer = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null });
  const consumer = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: producer });
  let done = 0;
  let finish;
  const finished = new Promise((r) => (finish = r));
  const worker = new Worker(name, async () => null, { connection: consumer, concurrency, autorun: false });
  worker.on('completed', () => {
    done += 1;
    if (done === tasks) finish();
  });
  await worker.waitUntilReady();
  void worker.run();
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < tasks; i += 1000) {
    const jobs = [];
    for (let j = i; j < Math.min(tasks, i + 1000); j++) jobs.push({ name: 'noop', data: { i: j } });
    await queue.addBulk(jobs);
  }
  await finished;
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  producer.disconnect();
  consumer.disconnect();
  return { rate: Math.round(tasks / seconds), cpuUs: Math.round((used.user + used.system) / tasks) };
}
