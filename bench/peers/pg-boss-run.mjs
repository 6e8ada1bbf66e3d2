/**
 * pg-boss 10 on PostgreSQL: `tasks` no-op jobs inserted in batches of 1,000, `workers` workers
 * each fetching `batchSize` jobs at a time; from the first insert to the last completion.
 */
import PgBoss from 'pg-boss';

export async function runPgBoss({ url, tasks, workers = 10, batchSize = 100 }) {
  const boss = new PgBoss({ connectionString: url, max: workers + 4, supervise: false, schedule: false });
  boss.on('error', (err) => console.error('pg-boss:', err.message));
  await boss.start();
  const name = `bench_${Date.now()}`;
  await boss.createQueue(name);
  let handled = 0;
  let finish;
  const finished = new Promise((r) => (finish = r));
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < tasks; i += 1000) {
    const jobs = [];
    for (let j = i; j < Math.min(tasks, i + 1000); j++) jobs.push({ name, data: { i: j } });
    await boss.insert(jobs);
  }
  for (let w = 0; w < workers; w++) {
    await boss.work(name, { batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      handled += jobs.length;
      if (handled >= tasks) setImmediate(finish);
    });
  }
  await finished;
  // A batch counts once pg-boss has marked it completed (after the handler resolved).
  const db = boss.getDb();
  for (;;) {
    const { rows } = await db.executeSql(
      `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'`,
      [name],
    );
    if (rows[0].n >= tasks) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  await boss.stop({ graceful: false, wait: true });
  return { rate: Math.round(tasks / seconds), cpuUs: Math.round((used.user + used.system) / tasks) };
}
