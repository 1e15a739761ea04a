/**
 * Starts a real `redis-server` for a test: on a free loopback port, in its own temporary
 * directory, with or without AOF persistence. It can be killed with SIGKILL and started again
 * on the same port with the same directory, so tests can exercise crashes and restarts.
 * Every server is stopped and its directory removed by `stop()`, and on process exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess } from './server-process';

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

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-redis-'));
  let aof = options.aof ?? false;
  const args = (port: number): string[] => [
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
  const server = await startServerProcess({
    name: 'redis-server',
    command: (port) => ['redis-server', args(port)],
    // `-LOADING` while an AOF is replayed: not ready yet.
    ready: async (port) => (await rawCommand(port, 'PING', 500)) === '+PONG',
    probeEveryMs: 25,
    startTimeoutMs: options.startTimeoutMs ?? 10_000,
  }).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  const kill9 = () => server.signal('SIGKILL');

  return {
    port: server.port,
    url: `redis://127.0.0.1:${server.port}`,
    dir,
    get running() {
      return server.running;
    },
    kill9,
    async restart(next = {}) {
      await kill9();
      if (next.aof !== undefined) aof = next.aof;
      await server.launch();
    },
    async stop() {
      await kill9();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
