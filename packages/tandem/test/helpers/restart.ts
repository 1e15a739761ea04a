import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { text } from 'node:stream/consumers';
import { expect, vi } from 'vitest';
import { createLiveClient, type EventMeta, type LiveClient } from '../../src/client';
import type { ResyncReason } from '../../src/protocol';
import { freePort } from './free-port';

/**
 * A quick-start server (`GET /api/live/stream|poll`, `POST /api/orders`) run as a process of its
 * own, and the deploy it must survive: clients that come and go, then a SIGTERM and a new
 * process on the same port.
 */
export interface ServerProcess {
  /** Everything the process wrote to stdout and stderr. */
  output(): string;
  /** Resolves with its exit code once it exited. */
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  /** Ends it at once if it still runs (test cleanup). */
  destroy(): void;
}

export type StartServer = (port: number) => ServerProcess;

export function spawnServer(
  command: string,
  args: string[],
  port: number,
  env: NodeJS.ProcessEnv = {},
): ServerProcess {
  const child: ChildProcess = spawn(command, args, {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    output: () => output,
    exited,
    kill: (signal) => child.kill(signal),
    destroy() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

type Events = { 'order:created': { id: string; total: number } };

/** Waits until the process's hub answers a poll; fails at once if the process ended. */
async function serving(base: string, server: ServerProcess): Promise<void> {
  let ended = false;
  void server.exited.then(() => {
    ended = true;
  });
  await vi
    .waitFor(
      async () => {
        if (ended) return;
        // Throws while it is not listening yet.
        const response = await fetch(`${base}/api/live/poll?channels=orders`);
        if (response.status !== 200) throw new Error(`the server answered ${response.status}`);
      },
      { timeout: 30_000, interval: 100 },
    )
    .catch((error: unknown) => {
      throw new Error(`the server did not serve within 30 s (${String(error)}):\n${server.output()}`);
    });
  if (ended) throw new Error(`the server ended before it served:\n${server.output()}`);
}

/** Whether nothing listens on the port any more. */
function portClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** `count` streams that each read their first bytes, then all leave at once. */
async function connectAndLeave(base: string, count: number): Promise<void> {
  const leaving = new AbortController();
  await Promise.all(
    Array.from({ length: count }, async () => {
      const response = await fetch(`${base}/api/live/stream?channels=orders`, { signal: leaving.signal });
      expect(response.status).toBe(200);
      await response.body!.getReader().read();
    }),
  );
  leaving.abort();
}

/**
 * Publishes an order on a connection of its own: one kept alive from before the restart would
 * lead to the old process (or be reset by it), which is the client's problem, not this test's.
 */
function publish(base: string, id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ id, total: 42 });
    const req = request(
      `${base}/api/orders`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
      async (res) => {
        try {
          expect(res.statusCode).toBe(201);
          resolve((JSON.parse(await text(res)) as { offset: number }).offset);
        } catch (error) {
          reject(error);
        }
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

export interface RestartFigures {
  /** SIGTERM → exit of the old process, ms. */
  exitMs: number;
}

/**
 * 50 clients connect and leave; a Tandem client follows `orders` and receives an order; then
 * the process gets SIGTERM and a new one starts on the same port as soon as the port is free.
 * The old process must exit with 0 within `drainMs`; the client must be told `resync` (the
 * memory broker's logs died with the old process) and receive an order published on the new
 * one; neither process may log anything.
 */
export async function restartScenario(start: StartServer, drainMs = 10_000): Promise<RestartFigures> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const processes: ServerProcess[] = [];
  let client: LiveClient<Events> | undefined;
  try {
    const old = start(port);
    processes.push(old);
    await serving(base, old);
    await connectAndLeave(base, 50);

    const received: EventMeta[] = [];
    const resyncs: ResyncReason[] = [];
    client = createLiveClient<Events>({ url: `${base}/api/live`, channels: ['orders'], storage: null });
    client.on('order:created', (_order, meta) => received.push(meta));
    client.onResync((_channels, reason) => resyncs.push(reason));
    client.start();
    await vi.waitFor(() => expect(client!.getState().status).toBe('open'), { timeout: 10_000 });
    expect(await publish(base, 'before')).toBe(1);
    await vi.waitFor(() => expect(received).toHaveLength(1), { timeout: 10_000 });

    const signalled = performance.now();
    old.kill('SIGTERM');
    let exitMs = Number.NaN;
    const oldExit = old.exited.then((code) => {
      exitMs = performance.now() - signalled;
      return code;
    });
    await vi.waitFor(async () => expect(await portClosed(port)).toBe(true), {
      timeout: drainMs,
      interval: 20,
    });
    // The old process may still hold the port for a moment: try again until the new one listens.
    let next: ServerProcess | undefined;
    for (let attempt = 0; !next; attempt++) {
      const candidate = start(port);
      processes.push(candidate);
      try {
        await serving(base, candidate);
        next = candidate;
      } catch (error) {
        candidate.destroy();
        if (attempt === 20 || !candidate.output().includes('EADDRINUSE')) throw error;
      }
    }

    expect(await oldExit, old.output()).toBe(0);
    expect(exitMs).toBeLessThan(drainMs);
    await vi.waitFor(() => expect(client!.getState().status).toBe('open'), { timeout: 15_000 });
    await vi.waitFor(() => expect(resyncs).toContain('epoch'), { timeout: 10_000 });
    expect(await publish(base, 'after')).toBe(1);
    await vi.waitFor(() => expect(received).toHaveLength(2), { timeout: 10_000 });
    expect(received[1]!.offset).toBe(1);
    expect(received[1]!.epoch).not.toBe(received[0]!.epoch);

    client.close();
    next.kill('SIGTERM');
    expect(await next.exited, next.output()).toBe(0);
    expect(old.output()).toBe('');
    expect(next.output()).toBe('');
    return { exitMs };
  } finally {
    client?.close();
    for (const server of processes) server.destroy();
  }
}
