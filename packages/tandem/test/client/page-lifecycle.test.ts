import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHub, type Hub, memoryBroker } from '../../src/server';
import { launchChromium, type TestBrowser } from '../helpers/chromium';
import { clientScript } from '../helpers/tabs';

/**
 * The page's life in Chromium, with its back/forward cache on: the client holds no connection
 * while the page is cached and resumes from its cursor when it comes back; offline it makes no
 * attempt, and on `online` it reconnects at once. Events keep being published throughout.
 */

const PAGE = `<!doctype html><meta charset="utf-8"><title>live</title><script src="/client.js"></script>
<script>
  window.rec = { events: [], statuses: [], shows: [], hides: [], onlineAt: [], offlineAt: [] };
  addEventListener('pageshow', (e) => rec.shows.push(e.persisted));
  addEventListener('pagehide', (e) => rec.hides.push(e.persisted));
  addEventListener('online', () => rec.onlineAt.push(Date.now()));
  addEventListener('offline', () => rec.offlineAt.push(Date.now()));
  const channel = new URLSearchParams(location.search).get('channel');
  window.client = Tandem.createLiveClient({ url: '/live', channels: [channel], storage: null });
  client.on('tick', (data, meta) => rec.events.push({ i: data.i, offset: meta.offset, source: meta.source }));
  client.subscribeState((s) => {
    const last = rec.statuses[rec.statuses.length - 1];
    if (!last || last.status !== s.status) rec.statuses.push({ status: s.status, at: Date.now() });
  });
  client.start();
</script>`;
const OTHER = '<!doctype html><meta charset="utf-8"><title>elsewhere</title><p>elsewhere</p>';

interface Rec {
  events: Array<{ i: number; offset: number; source: string }>;
  statuses: Array<{ status: string; at: number }>;
  shows: boolean[];
  hides: boolean[];
  onlineAt: number[];
  offlineAt: number[];
}

let script = '';
let browser: TestBrowser;
let server: Server;
let hub: Hub;
let base = '';
const streams: number[] = [];
const broker = memoryBroker();

beforeAll(async () => {
  script = await clientScript();
  hub = createHub({ broker });
  server = createServer((req, res) => {
    if (req.url?.startsWith('/?')) res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    else if (req.url === '/other') res.writeHead(200, { 'content-type': 'text/html' }).end(OTHER);
    else if (req.url === '/client.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else {
      if (req.url?.startsWith('/live/stream')) streams.push(Date.now());
      hub.node(req, res);
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium({ backForwardCache: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await hub?.close();
  server?.closeAllConnections();
  await new Promise<void>((done) => server?.close(() => done()));
  await broker.close();
});

const record = (page: Page) => page.evaluate(() => (window as unknown as { rec: Rec }).rec);

/** Publishes `tick` events every 50 ms until stopped; `stop` resolves with the channel's head. */
function publisher(channel: string): { count(): number; stop(): Promise<number> } {
  let n = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      await hub.publish(channel, 'tick', { i: n++ }).catch(() => {
        running = false;
      });
      await new Promise((r) => setTimeout(r, 50));
    }
    return (await broker.info(channel)).head;
  })();
  return {
    count: () => n,
    stop() {
      running = false;
      return done;
    },
  };
}

/** Waits until `n` more events have been published. */
async function published(pub: { count(): number }, n: number): Promise<void> {
  const target = pub.count() + n;
  await expect.poll(() => pub.count(), { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(target);
}

async function waitForAll(page: Page, total: number): Promise<Rec> {
  await expect
    .poll(async () => (await record(page)).events.length, { timeout: 15_000 })
    .toBeGreaterThanOrEqual(total);
  return record(page);
}

function expectEach(rec: Rec, from: number, total: number): void {
  expect(rec.events.map((e) => e.i)).toEqual(Array.from({ length: total - from }, (_, k) => from + k));
}

describe('the page life cycle in Chromium', () => {
  it('leaves for another page and comes back from the back/forward cache with every event once', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${base}/?channel=life:bfcache`);
    await expect.poll(async () => (await record(page)).statuses.at(-1)?.status).toBe('open');
    const from = 0;
    const pub = publisher('life:bfcache');
    await expect.poll(async () => (await record(page)).events.length).toBeGreaterThanOrEqual(5);

    const streamsBefore = streams.length;
    await page.goto(`${base}/other`);
    // Away while 30 events are published; the cached page holds no stream.
    await published(pub, 30);
    expect(streams.length).toBe(streamsBefore);
    // A page restored from the cache fires no `load`: wait for the commit only.
    await page.goBack({ waitUntil: 'commit' });
    await expect.poll(async () => (await record(page)).shows.length).toBe(2);
    const rec = await record(page);
    // Restored from the back/forward cache (the same document, so its record survived).
    expect(rec.hides).toEqual([true]);
    expect(rec.shows.at(-1)).toBe(true);
    const total = await pub.stop();
    const all = await waitForAll(page, total - from);
    expectEach(all, from, total);
    expect(streams.length).toBe(streamsBefore + 1);
    expect(all.statuses.map((s) => s.status)).toEqual(['connecting', 'open', 'idle', 'connecting', 'open']);
    console.log(
      `back/forward cache: ${total - from} events, ${all.events.filter((e) => e.source === 'stream').length} by the stream; restored with persisted=${rec.shows.at(-1)}`,
    );
    await page.close();
  }, 60_000);

  it('makes no attempt while offline and reconnects on going online, with one request', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${base}/?channel=life:offline`);
    await expect.poll(async () => (await record(page)).statuses.at(-1)?.status).toBe('open');
    const from = 0;
    const pub = publisher('life:offline');
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    const conditions = (offline: boolean) =>
      cdp.send('Network.emulateNetworkConditions', {
        offline,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
    await conditions(true);
    await expect.poll(async () => (await record(page)).offlineAt.length).toBe(1);
    await expect.poll(async () => (await record(page)).statuses.at(-1)?.status).not.toBe('open');
    // Offline while 60 events are published (3 s, longer than any backoff window): no attempt.
    const streamsOffline = streams.length;
    await published(pub, 60);
    expect(streams.length).toBe(streamsOffline);
    await conditions(false);
    await expect
      .poll(async () => (await record(page)).statuses.at(-1)?.status, { timeout: 10_000 })
      .toBe('open');
    const rec = await record(page);
    const onlineAt = rec.onlineAt[0]!;
    // The `online` event made the attempt, not a backoff timer: no timer fired in the 3 s offline
    // (longer than any backoff window), and the one stream request the hub then saw came after
    // the event. How soon after is a figure, logged, not a bound.
    expect(streams.length).toBe(streamsOffline + 1);
    expect(streams.at(-1)!).toBeGreaterThanOrEqual(onlineAt);
    console.log(`online → stream open again: ${rec.statuses.at(-1)!.at - onlineAt} ms`);
    const total = await pub.stop();
    expectEach(await waitForAll(page, total - from), from, total);
    await cdp.detach();
    await page.close();
  }, 60_000);
});
