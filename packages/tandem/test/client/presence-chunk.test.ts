import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHub, type Hub, memoryBroker } from '../../src/server';
import { launchChromium, type TestBrowser } from '../helpers/chromium';

/**
 * Presence is a chunk of its own, loaded at the first view the stream brings: in Chromium, the
 * client as an app's bundler splits it, served by a page whose server can refuse that chunk.
 */

let files: Map<string, string>;
/** The file that holds the presence views. */
let presenceChunk: string;
let hub: Hub;
let server: Server;
let url: string;
let browser: TestBrowser;
let refuseChunk = false;
const chunkRequests: string[] = [];

beforeAll(async () => {
  const result = await build({
    entryPoints: { client: resolve(import.meta.dirname, '../../src/client/index.ts') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: '/chunks',
    write: false,
    metafile: true,
  });
  const name = (path: string) => `/chunks/${path.split('/').pop()}`;
  // esbuild counts the target of an `import()` as an entry point of its own.
  const chunk = Object.entries(result.metafile.outputs).find(([, output]) =>
    output.entryPoint?.endsWith('client/presence.ts'),
  );
  if (!chunk) throw new Error('the presence views are not a chunk of their own');
  presenceChunk = name(chunk[0]);
  files = new Map(result.outputFiles.map((file) => [name(file.path), file.text]));
  hub = createHub({
    broker: memoryBroker(),
    presence: { graceMs: 300, intervalMs: 50 },
    authorize: (request) => ({ subject: request.query.get('as') ?? 'nobody', channels: ['**'] }),
  });
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path.split('?')[0] === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    } else if (files.has(path)) {
      if (path === presenceChunk) {
        chunkRequests.push(path);
        if (refuseChunk) return void res.writeHead(404).end();
      }
      res
        .writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' })
        .end(files.get(path));
    } else if (path.startsWith('/live/')) {
      hub.node(req, res);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await hub?.close();
  server?.closeAllConnections();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
});

/** A client following `room:1` as `as`, recording its events, status and presence view. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>tandem presence</title>
<script type="module">
import { createLiveClient } from '/chunks/client.js';
const as = new URL(location.href).searchParams.get('as');
const client = createLiveClient({ url: '/live?as=' + as, channels: ['room:1'], storage: null });
window.record = { events: [], changes: 0 };
client.on('tick', (data) => window.record.events.push(data.i));
client.onPresence('room:1', () => window.record.changes++);
window.read = () => ({ ...window.record, status: client.getState().status, view: client.presence('room:1') });
client.start();
</script>`;

interface Record {
  events: number[];
  changes: number;
  status: string;
  view: { users: number; synced: boolean };
}

const opened: Page[] = [];
async function openPage(as: string): Promise<Page> {
  const page = await browser.context.newPage();
  opened.push(page);
  await page.goto(`${url}/?as=${as}`);
  return page;
}

const read = (page: Page) => page.evaluate(() => (window as unknown as { read(): Record }).read());

afterEach(async () => {
  for (const page of opened.splice(0)) if (!page.isClosed()) await page.close();
  refuseChunk = false;
  chunkRequests.length = 0;
  await vi.waitFor(() => expect(hub.stats().connections).toBe(0), { timeout: 10_000 });
});

describe('the presence chunk', () => {
  it('loads with the first view the stream brings, and then follows the channel', async () => {
    const alice = await openPage('alice');
    await vi.waitFor(async () => expect((await read(alice)).view).toMatchObject({ users: 1, synced: true }), {
      timeout: 10_000,
    });
    expect(chunkRequests).toHaveLength(1);
    await openPage('bob');
    await vi.waitFor(async () => expect((await read(alice)).view).toMatchObject({ users: 2, synced: true }), {
      timeout: 10_000,
    });
    expect((await read(alice)).changes).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('that cannot be loaded leaves presence unknown and every event delivered', async () => {
    refuseChunk = true;
    const carol = await openPage('carol');
    await vi.waitFor(async () => expect((await read(carol)).status).toBe('open'), { timeout: 10_000 });
    await vi.waitFor(() => expect(chunkRequests).toHaveLength(1), { timeout: 10_000 });
    for (let i = 1; i <= 3; i++) await hub.publish('room:1', 'tick', { i });
    await vi.waitFor(async () => expect((await read(carol)).events).toEqual([1, 2, 3]), { timeout: 10_000 });
    const record = await read(carol);
    expect(record.view).toEqual({ users: 0, connections: 0, synced: false });
    expect(record.changes).toBe(0);
    expect(record.status).toBe('open');
  }, 60_000);
});
