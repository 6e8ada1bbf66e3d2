import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PostgresServer, type StartPostgresOptions } from './throwaway-postgres.js';

export { startPostgres, postgresBinDir } from './throwaway-postgres.js';
export type { PostgresServer, StartPostgresOptions } from './throwaway-postgres.js';

/**
 * One cluster for the test file that calls it (started in `beforeAll`, stopped in `afterAll`);
 * each test asks it for its own database with `createDatabase()`.
 *
 * @example
 * ```ts
 * const pgServer = usePostgresServer();
 * it('...', async () => { const url = await pgServer().createDatabase(); ... });
 * ```
 */
export function usePostgresServer(options: StartPostgresOptions = {}): () => PostgresServer {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgres(options);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined)
      throw new Error('the PostgreSQL test server has not started (use it inside tests or hooks)');
    return server;
  };
}
