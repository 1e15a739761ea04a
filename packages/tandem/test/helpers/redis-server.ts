/**
 * Starts a real `redis-server` for a test: on a free loopback port, in its own temporary
 * directory, with or without AOF persistence. It can be killed with SIGKILL and started again
 * on the same port with the same directory, so tests can exercise crashes and restarts.
 * Every server is stopped and its directory removed by `stop()`, and on process exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

export interface RedisServerOptions {
  /** Append-only file persistence. Default false (no persistence at all). */
  aof?: boolean;
  /** `appendfsync` when `aof` is on. Default `always`, so a kill loses nothing acknowledged. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** How long to wait for the server to answer PING. Default 10 s. */
  startTimeoutMs?: number;
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Whether the process is running. */
  readonly running: boolean;
  /** SIGKILL: no shutdown save, no goodbye to clients. */
  kill9(): Promise<void>;
  /** Starts again on the same port and directory; `aof` may be changed for the new run. */
  restart(options?: Pick<RedisServerOptions, 'aof'>): Promise<void>;
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

/** Sends one inline command and resolves with the first reply line, or rejects. */
export function rawCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\r\n');
      if (end === -1) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(buffer.slice(0, end));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function waitForPong(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited early (${child.exitCode ?? child.signalCode})`);
    }
    try {
      // `-LOADING` while an AOF is replayed: not ready yet.
      if ((await rawCommand(port, 'PING', 500)) === '+PONG') return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'tandem-redis-'));
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  let aof = options.aof ?? false;
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (): Promise<void> => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      aof ? 'yes' : 'no',
      '--appendfsync',
      options.appendfsync ?? 'always',
      '--protected-mode',
      'no',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ];
    const proc = spawn('redis-server', args, { stdio: 'ignore' });
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    child = proc;
    await waitForPong(port, proc, startTimeoutMs);
  };

  // Another process may take the free port between the probe and the launch: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      child?.kill('SIGKILL');
      if (attempt >= 4) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  const kill9 = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  };

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    kill9,
    async restart(next = {}) {
      await kill9();
      if (next.aof !== undefined) aof = next.aof;
      await launch();
    },
    async stop() {
      await kill9();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
