/**
 * Starts a real PostgreSQL for a test: `initdb` into a temporary directory, then `postgres` on a
 * free loopback port, so a test can stop it, kill it and start it again on the same port and
 * data. The binaries are found by globbing Debian's `/usr/lib/postgresql/<version>/bin` (the
 * newest version), or in `TANDEM_PG_BIN`. PostgreSQL refuses to run as root: as root, the
 * directory is handed to the `postgres` user and every binary runs through `runuser`.
 * Every server is stopped and its directory removed by `stop()`, and on process exit.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { vi } from 'vitest';
import { startServerProcess } from './server-process';

export interface PostgresServer {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly running: boolean;
  /** The postmaster's pid while it runs (its backends are its children). */
  readonly pid: number | undefined;
  /** SIGKILL to the postmaster: no shutdown checkpoint, every connection dropped. */
  kill9(): Promise<void>;
  /** Starts again on the same port and data directory (after `kill9` or `stopFast`). */
  start(): Promise<void>;
  /** A fast shutdown: connections are terminated, then the server exits. */
  stopFast(): Promise<void>;
  /** Kills the server and removes its directory. */
  stop(): Promise<void>;
}

/** The directory holding `initdb` and `postgres`. */
export function postgresBinDir(): string {
  const fromEnv = process.env.TANDEM_PG_BIN;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error('PostgreSQL binaries not found (set TANDEM_PG_BIN)');
  return join(root, versions[0]!, 'bin');
}

const asRoot = process.getuid?.() === 0;

/** The command line that runs `binary` as a user PostgreSQL accepts. */
function command(binary: string, args: string[]): [string, string[]] {
  const path = join(postgresBinDir(), binary);
  return asRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
}

/** Whether PostgreSQL on `port` accepts a connection and answers a query. */
async function accepts(port: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function startPostgres(options: { startTimeoutMs?: number } = {}): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-pg-'));
  const data = join(dir, 'data');
  if (asRoot) {
    chmodSync(dir, 0o755);
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const [initdb, initArgs] = command('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '--no-sync',
    '--encoding=UTF8',
    '--locale=C',
  ]);
  execFileSync(initdb, initArgs, { stdio: 'ignore' });
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;

  /** The postmaster's pid, from its pid file (the child may be `runuser`, which would not pass SIGKILL on). */
  function postmasterPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  const server = await startServerProcess({
    name: 'postgres',
    command: (port) =>
      command('postgres', [
        '-D',
        data,
        '-p',
        String(port),
        '-h',
        '127.0.0.1',
        '-k',
        dir,
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
        '-c',
        'shared_buffers=32MB',
        // Lets tests check that offsets follow commit order.
        '-c',
        'track_commit_timestamp=on',
      ]),
    ready: accepts,
    probeEveryMs: 50,
    startTimeoutMs,
    serverPid: postmasterPid,
  }).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  const signal = (name: NodeJS.Signals) => server.signal(name);

  /**
   * Starts the server; after a SIGKILL its backends may still be on their way out (each notices
   * the postmaster's death by itself) and hold the shared memory a moment: try again until then.
   */
  async function start(): Promise<void> {
    // A launch that failed (its port taken meanwhile, say) is killed and tried again.
    await vi.waitFor(
      async () => {
        try {
          await server.launch();
        } catch (error) {
          await signal('SIGKILL');
          throw error;
        }
      },
      { timeout: startTimeoutMs, interval: 200 },
    );
  }

  return {
    port: server.port,
    url: `postgres://postgres@127.0.0.1:${server.port}/postgres`,
    get running() {
      return server.running;
    },
    get pid() {
      return postmasterPid();
    },
    kill9: () => signal('SIGKILL'),
    stopFast: () => signal('SIGINT'),
    start,
    async stop() {
      await signal('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
