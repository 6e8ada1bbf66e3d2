import { spawn, execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL cluster for tests: `initdb` into a temp folder, `pg_ctl start` on a
 * free loopback port, stopped and removed afterwards. Nothing outside the temp folder is used,
 * so no test needs a server it did not start. PostgreSQL refuses to run as root, so when the
 * tests run as root the server runs as the system user `postgres`.
 */
export interface PostgresServer {
  /** Where the cluster lives (data folder and socket). */
  readonly dir: string;
  readonly port: number;
  /** A connection URL to the given database (default: the `postgres` maintenance database). */
  url(database?: string): string;
  /** Creates a new empty database with a unique name and returns its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

const USER = 'troupe_test';

/** The folder of the newest installed PostgreSQL binaries, or undefined when there are none. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** uid/gid of `postgres` when running as root, since PostgreSQL refuses to run as root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

function run(bin: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user ?? {}),
      env: { ...process.env, LC_ALL: 'C' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${bin} ${args.join(' ')} exited ${code}:\n${output}`)),
    );
  });
}

export interface StartPostgresOptions {
  /**
   * Server settings passed with `-c`. The defaults trade the server's own crash safety for speed
   * (`fsync=off`): fine for a test cluster thrown away afterwards, since a process crash still
   * loses nothing (the OS keeps the pages). Durability tests that kill the server keep them.
   */
  settings?: Record<string, string>;
}

/** Starts a new cluster; call `stop()` when done. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (bin === undefined)
    throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql (bash .ci/run installs them)');
  const user = serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'troupe-pg-'));
  if (user !== undefined) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  await run(
    join(bin, 'initdb'),
    ['-D', data, '-U', USER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    user,
  );
  const settings = {
    fsync: 'off',
    synchronous_commit: 'on',
    full_page_writes: 'off',
    max_connections: '200',
    shared_buffers: '32MB',
    ...options.settings,
  };
  const serverArgs = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`);
  let port = 0;
  // A port found free can be taken before the server binds it; try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await run(
        join(bin, 'pg_ctl'),
        [
          '-D',
          data,
          '-l',
          join(dir, 'server.log'),
          '-w',
          '-t',
          '60',
          'start',
          '-o',
          `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 ${serverArgs.join(' ')}`,
        ],
        user,
      );
      break;
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
  let next = 0;
  const url = (database = 'postgres') => `postgres://${USER}@127.0.0.1:${port}/${database}`;
  return {
    dir,
    port,
    url,
    async createDatabase() {
      const name = `t_${process.pid}_${next++}`;
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        // FILE_COPY: ~150 ms here against ~450 ms for WAL_LOG, since a test cluster runs without fsync.
        await client.query(`CREATE DATABASE ${name} STRATEGY FILE_COPY`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      await run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], user).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
