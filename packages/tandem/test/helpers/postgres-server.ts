/**
 * Starts a real PostgreSQL for a test: `initdb` into a temporary directory, then `postgres` on a
 * free loopback port, so a test can stop it, kill it and start it again on the same port and
 * data. The binaries are found by globbing Debian's `/usr/lib/postgresql/<version>/bin` (the
 * newest version), or in `TANDEM_PG_BIN`. PostgreSQL refuses to run as root: as root, the
 * directory is handed to the `postgres` user and every binary runs through `runuser`.
 * Every server is stopped and its directory removed by `stop()`, and on process exit.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port';

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

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
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

async function waitForServer(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited early (${child.exitCode ?? child.signalCode})`);
    }
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
    }
    if (Date.now() > deadline) throw new Error(`postgres on port ${port} did not accept connections`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startPostgres(options: { startTimeoutMs?: number } = {}): Promise<PostgresServer> {
  installExitHook();
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
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (): Promise<void> => {
    const [postgres, args] = command('postgres', [
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
    ]);
    const proc = spawn(postgres, args, { stdio: 'ignore' });
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    child = proc;
    await waitForServer(port, proc, startTimeoutMs);
  };

  // Another process may take the free port between the probe and the launch: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      await signal('SIGKILL');
      if (attempt >= 4) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  /** The postmaster's pid, from its pid file (`child` may be `runuser`, which would not pass SIGKILL on). */
  function postmasterPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  async function signal(name: NodeJS.Signals): Promise<void> {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const pid = postmasterPid();
    try {
      if (pid !== undefined) process.kill(pid, name);
      else proc.kill(name);
    } catch {
      proc.kill('SIGKILL');
    }
    await exited;
  }

  /**
   * Starts the server; after a SIGKILL its backends may still be on their way out (each notices
   * the postmaster's death by itself) and hold the shared memory a moment: try again until then.
   */
  async function start(): Promise<void> {
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      try {
        await launch();
        return;
      } catch (error) {
        await signal('SIGKILL');
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
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
