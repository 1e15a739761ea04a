/**
 * The README's quick starts, run: each example in this folder is a README snippet, started as
 * its own process (tsx, Tandem from the workspace's sources), and must deliver one published
 * event to a Tandem client, then shut down cleanly on SIGTERM; and survive a deploy: clients
 * that leave log nothing, and after SIGTERM the process exits within its drain while a client
 * moves to the new process on the same port (a `resync`: the memory broker's logs are new).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLiveClient, type EventMeta, type LiveClient } from '../../packages/tandem/src/client';
import { freePort } from '../../packages/tandem/test/helpers/free-port';
import { restartScenario, spawnServer } from '../../packages/tandem/test/helpers/restart';

type Events = { 'order:created': { id: string; total: number } };

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

/** Every ```ts block of the README, as written. */
const readmeBlocks = [...readFileSync(here('../../README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map(
  (m) => m[1]!,
);

let child: ChildProcess | undefined;
let client: LiveClient<Events> | undefined;
let output = '';
afterEach(() => {
  client?.close();
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = client = undefined;
  output = '';
});

describe.each(['node-http', 'express', 'hono'])('the README quick start %s', (name) => {
  const file = here(`./${name}.ts`);

  it('is in the README exactly as in this folder', () => {
    expect(readmeBlocks).toContain(readFileSync(file, 'utf8'));
  });

  it('serves a hub that delivers a published event to a Tandem client, and stops on SIGTERM', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // tsx's loader in the process itself (its CLI would run the file in a child of its own).
    child = spawn(process.execPath, ['--import', 'tsx', '--conditions=tandem-source', file], {
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

    // Up once its hub answers a poll.
    await vi.waitFor(
      async () => {
        expect(child!.exitCode, output).toBeNull();
        const response = await fetch(`${base}/api/live/poll?channels=orders`);
        expect(response.status).toBe(200);
      },
      { timeout: 30_000, interval: 100 },
    );

    const received: Array<{ data: Events['order:created']; meta: EventMeta }> = [];
    client = createLiveClient<Events>({ url: `${base}/api/live`, channels: ['orders'], storage: null });
    client.on('order:created', (data, meta) => received.push({ data, meta }));
    client.start();
    await vi.waitFor(() => expect(client!.getState().status).toBe('open'), { timeout: 10_000 });

    const published = await fetch(`${base}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'o-1', total: 42 }),
    });
    expect(published.status).toBe(201);
    expect(await published.json()).toEqual({ offset: 1 });
    await vi.waitFor(() => expect(received).toHaveLength(1), { timeout: 10_000 });
    expect(received[0]!.data).toEqual({ id: 'o-1', total: 42 });
    expect(received[0]!.meta).toMatchObject({ channel: 'orders', offset: 1 });

    client.close();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);

  it('logs nothing when 50 clients leave, and on SIGTERM exits within the drain while a client moves to a new process on the same port', async () => {
    const { exitMs } = await restartScenario((port) =>
      spawnServer(process.execPath, ['--import', 'tsx', '--conditions=tandem-source', file], port),
    );
    console.log(`${name}: exited ${Math.round(exitMs)} ms after SIGTERM`);
  }, 120_000);
});
