import { Counter, Gauge, type Registry } from 'prom-client';
import type { Store } from '../store/store.js';
import type { RetentionSweeper } from './retention-sweeper.js';

/**
 * Rows and bytes kept and swept, in the runtime's metrics registry:
 * `troupe_store_rows{table}`, `troupe_store_bytes` (read from the store when scraped),
 * `troupe_retention_swept_rows_total{table}`, `troupe_retention_swept_bytes_total`,
 * `troupe_retention_sweeps_total`.
 */
export function registerRetentionMetrics(
  registry: Registry,
  store: Store,
  sweeper: RetentionSweeper,
  storeOpen: () => boolean,
): void {
  new Gauge({
    name: 'troupe_store_rows',
    help: 'Rows the store keeps, by table',
    labelNames: ['table'] as const,
    registers: [registry],
    async collect() {
      if (!storeOpen()) return;
      const stats = await store.storageStats();
      this.set({ table: 'live_actors' }, stats.liveActors);
      this.set({ table: 'settled_actors' }, stats.settledActors);
      this.set({ table: 'events' }, stats.events);
      this.set({ table: 'audit' }, stats.auditEntries);
    },
  });
  new Gauge({
    name: 'troupe_store_bytes',
    help: 'Bytes the store occupies (SQLite: the file less its free pages)',
    registers: [registry],
    // Scrapes collect every metric at once, so this reads the store itself.
    async collect() {
      if (!storeOpen()) return;
      const { bytes } = await store.storageStats();
      if (bytes !== null) this.set(bytes);
    },
  });
  const sweeps = new Counter({
    name: 'troupe_retention_sweeps_total',
    help: 'Retention sweeps run',
    registers: [registry],
  });
  const swept = new Counter({
    name: 'troupe_retention_swept_rows_total',
    help: 'Rows removed by retention, by table',
    labelNames: ['table'] as const,
    registers: [registry],
  });
  const sweptUnits = new Counter({
    name: 'troupe_retention_swept_units_total',
    help: 'Finished units (tickets whole, free-standing actors) removed',
    registers: [registry],
  });
  const sweptBytes = new Counter({
    name: 'troupe_retention_swept_bytes_total',
    help: 'JSON bytes of the rows removed by retention',
    registers: [registry],
  });
  sweeper.onSweep((r) => {
    sweeps.inc();
    sweptUnits.inc(r.units.units);
    swept.inc({ table: 'actors' }, r.units.actors);
    swept.inc({ table: 'events' }, r.units.events + r.events.events);
    swept.inc({ table: 'audit' }, r.audit.auditEntries);
    sweptBytes.inc(r.units.bytes + r.events.bytes + r.audit.bytes);
  });
}
