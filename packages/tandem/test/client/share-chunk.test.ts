import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { jwtAuthorizer } from '../../src/jwt';
import { createHub, type Hub, memoryBroker } from '../../src/server';
import { launchChromium, type TestBrowser } from '../helpers/chromium';
import { SECRET, startTab, tabRecord, tokenFor, untilTabs } from '../helpers/tabs';

/**
 * Tab sharing is a chunk of its own, loaded where the client can share: in Chromium, the
 * client as an app's bundler splits it (ES modules, the sharing layer behind `import()`),
 * served by a page whose server can hold back or refuse that chunk.
 */

interface Chunks {
  files: Map<string, string>;
  /** The file that holds the sharing layer. */
  share: string;
}

async function splitClient(): Promise<Chunks> {
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
  const share = Object.entries(result.metafile.outputs).find(([, output]) =>
    output.entryPoint?.endsWith('share/index.ts'),
  );
  if (!share || !Object.keys(share[1].inputs).some((input) => input.endsWith('share/member.ts'))) {
    throw new Error('the sharing layer is not a chunk of its own');
  }
  return {
    files: new Map(result.outputFiles.map((file) => [name(file.path), file.text])),
    share: name(share[0]),
  };
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>tandem tab</title>
<script type="module">import * as Tandem from '/chunks/client.js'; window.Tandem = Tandem;</script>`;

let chunks: Chunks;
let hub: Hub;
let server: Server;
let url: string;
let browser: TestBrowser;
/** How the server answers for the sharing chunk. */
let shareChunk: 'serve' | 'hold' | 'refuse' = 'serve';
const held: ServerResponse[] = [];
const chunkRequests: string[] = [];
const streamRequests: string[] = [];

beforeAll(async () => {
  chunks = await splitClient();
  const broker = memoryBroker();
  hub = createHub({ broker, authorize: jwtAuthorizer({ secret: SECRET }) });
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    } else if (chunks.files.has(path)) {
      const send = () =>
        res
          .writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' })
          .end(chunks.files.get(path));
      if (path !== chunks.share) return send();
      chunkRequests.push(path);
      if (shareChunk === 'refuse') res.writeHead(404).end();
      else if (shareChunk === 'hold') held.push(res);
      else send();
    } else if (path.startsWith('/live/')) {
      if (path.startsWith('/live/stream')) streamRequests.push(path);
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

const opened: Page[] = [];
async function openTab(): Promise<Page> {
  const page = await browser.context.newPage();
  opened.push(page);
  await page.goto(`${url}/`);
  return page;
}

afterEach(async () => {
  for (const page of opened.splice(0)) if (!page.isClosed()) await page.close();
  shareChunk = 'serve';
  chunkRequests.length = 0;
  streamRequests.length = 0;
  await vi.waitFor(() => expect(hub.stats().connections).toBe(0), { timeout: 10_000 });
});

describe('the sharing chunk', () => {
  it('is loaded once the client starts, and nothing is opened until the group decides', async () => {
    const token = await tokenFor('user-chunk');
    shareChunk = 'hold';
    const pages = [await openTab(), await openTab()];
    for (const page of pages) await startTab(page, { channels: ['chunk:a'], token });
    // (Chromium may hold the second tab's request for the same file until the first is answered.)
    await vi.waitFor(() => expect(held.length).toBeGreaterThanOrEqual(1));
    // While the chunk loads the clients wait, alone and connecting, with no stream of their own.
    for (const rec of await Promise.all(pages.map(tabRecord))) {
      expect(rec.status).toBe('connecting');
      expect(rec.share.role).toBe('alone');
    }
    expect(streamRequests).toEqual([]);

    shareChunk = 'serve';
    for (const res of held.splice(0)) {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(chunks.files.get(chunks.share));
    }
    const open = await untilTabs(pages, (rec) => rec.status === 'open' && rec.share.members === 2);
    expect(open.map((rec) => rec.share.role).sort()).toEqual(['follower', 'leader']);
    // One stream for both tabs, from the start: no tab opened its own and then switched.
    expect(streamRequests).toHaveLength(1);
    await hub.publish('chunk:a', 'tick', { i: 1 });
    const got = await untilTabs(pages, (rec) => rec.events.length >= 1);
    for (const rec of got) expect(rec.events.map((e) => e.i)).toEqual([1]);
  }, 60_000);

  it('is not loaded when the client cannot share: sharing off, or no identity to group by', async () => {
    const token = await tokenFor('user-apart');
    const apart = await openTab();
    await startTab(apart, { channels: ['chunk:b'], token, shareAcrossTabs: false });
    const anonymous = await openTab();
    await startTab(anonymous, { channels: ['chunk:b'] });
    const open = await untilTabs([apart], (rec) => rec.status === 'open');
    expect(open[0]!.share.role).toBe('alone');
    // The anonymous client is refused by the hub (no token): it got as far as asking.
    await vi.waitFor(() => expect(streamRequests.length).toBeGreaterThanOrEqual(2));
    expect(chunkRequests).toEqual([]);
  }, 60_000);

  it('that cannot be loaded leaves the client on a stream of its own', async () => {
    const token = await tokenFor('user-refused');
    shareChunk = 'refuse';
    const page = await openTab();
    await startTab(page, { channels: ['chunk:c'], token });
    const [rec] = await untilTabs([page], (r) => r.status === 'open');
    expect(rec!.share.role).toBe('alone');
    expect(chunkRequests).toHaveLength(1);
    await hub.publish('chunk:c', 'tick', { i: 7 });
    const [got] = await untilTabs([page], (r) => r.events.length >= 1);
    expect(got!.events.map((e) => e.i)).toEqual([7]);
  }, 60_000);
});
