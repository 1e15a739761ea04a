import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { SignJWT } from 'jose';
import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, expect, vi } from 'vitest';
import type { LiveClientOptions } from '../../src/client';
import { jwtAuthorizer } from '../../src/jwt';
import { createHub, type Hub, type HubOptions, memoryBroker } from '../../src/server';

/**
 * Tabs of one browser, each running the client as a page does (bundled, with the platform's
 * fetch, Web Locks, BroadcastChannel and sessionStorage), against a real hub that serves the
 * page too (one origin, as in an app), over HTTP/1.1.
 */

const PAGE = `<!doctype html><meta charset="utf-8"><title>tandem tab</title><script src="/client.js"></script>`;
export const SECRET = 'a-test-secret-of-enough-length-for-hs256';

let bundled: Promise<string> | null = null;

/** The client, bundled for the page as `window.Tandem`. */
export function clientScript(): Promise<string> {
  bundled ??= build({
    entryPoints: [resolve(import.meta.dirname, '../../src/client/index.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'Tandem',
    platform: 'browser',
    target: 'es2022',
    write: false,
  }).then((result) => result.outputFiles[0]!.text);
  return bundled;
}

export interface Site {
  url: string;
  hub: Hub;
  /** Hub requests as they arrived: path and query, and when (ms). */
  requests: Array<{ url: string; at: number }>;
  /** Stream requests so far. */
  streams(): Array<{ url: string; at: number }>;
  close(): Promise<void>;
}

/**
 * A page and a hub at `/live` on one origin; every request needs a token signed with `SECRET`.
 * `gate`, when given, is awaited before the hub sees a request (to hold some streams back).
 */
export async function startSite(
  options: HubOptions = {},
  gate?: (url: string) => Promise<void> | undefined,
): Promise<Site> {
  const script = await clientScript();
  const broker = memoryBroker();
  const hub = createHub({ broker, authorize: jwtAuthorizer({ secret: SECRET }), ...options });
  const requests: Site['requests'] = [];
  const server: Server = createServer((req, res) => {
    if (req.url === '/' || req.url?.startsWith('/?')) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    } else if (req.url === '/client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else if (req.url?.startsWith('/live/')) {
      const url = req.url;
      const pass = () => {
        requests.push({ url, at: Date.now() });
        hub.node(req, res);
      };
      const held = gate?.(url);
      if (held) void held.then(pass);
      else pass();
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hub,
    requests,
    streams: () => requests.filter((r) => r.url.startsWith('/live/stream')),
    async close() {
      await hub.close();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await broker.close();
    },
  };
}

/** A token for `sub` that may read `channels` (patterns). */
export function tokenFor(sub: string, channels: string[] = ['**']): Promise<string> {
  return new SignJWT({ channels })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));
}

/** What the app in one tab saw. */
export interface TabRecord {
  events: Array<{ channel: string; offset: number; i: number; source: string }>;
  resyncs: Array<{ channels: string[]; reason: string }>;
  status: string;
  error: string | null;
  share: { role: string; members: number; id: string; leader: string | null };
  /** When the client's state last became `open` (page clock, ms). */
  openAt: number | null;
}

type PageOptions = Omit<LiveClientOptions, 'url' | 'channels'> & { channels: string[] };

/** Starts a client in the page whose app records what it sees. */
export async function startTab(page: Page, options: PageOptions): Promise<void> {
  await page.evaluate((options) => {
    const w = window as unknown as {
      Tandem: typeof import('../../src/client');
      rec: TabRecord;
      client: import('../../src/client').LiveClient;
    };
    const rec: TabRecord = {
      events: [],
      resyncs: [],
      status: 'idle',
      error: null,
      share: { role: 'alone', members: 1, id: '', leader: null },
      openAt: null,
    };
    w.rec = rec;
    w.client = w.Tandem.createLiveClient({ url: '/live', eventTypes: ['tick'], ...options });
    w.client.onAny((_type, data, meta) => {
      rec.events.push({
        channel: meta.channel,
        offset: meta.offset,
        i: (data as { i: number }).i,
        source: meta.source,
      });
    });
    w.client.onResync((channels, reason) => {
      rec.resyncs.push({ channels, reason });
    });
    w.client.subscribeState((s) => {
      if (s.status === 'open' && rec.status !== 'open') rec.openAt = Date.now();
      rec.status = s.status;
      rec.error = s.lastError?.code ?? null;
      rec.share = s.share;
    });
    w.client.start();
  }, options);
}

export const tabRecord = (page: Page): Promise<TabRecord> =>
  page.evaluate(() => (window as unknown as { rec: TabRecord }).rec);

/** Opens `count` tabs of the site in `context`, each with a client started with `options`. */
export async function openTabs(
  context: BrowserContext,
  site: Site,
  count: number,
  options: (index: number) => PageOptions,
): Promise<Page[]> {
  const pages: Page[] = [];
  for (let index = 0; index < count; index++) {
    const page = await context.newPage();
    await page.goto(`${site.url}/`);
    await startTab(page, options(index));
    pages.push(page);
  }
  return pages;
}

/** Polls every tab until `predicate` holds for all of them (or throws with the last records). */
export async function untilTabs(
  pages: readonly Page[],
  predicate: (rec: TabRecord, index: number) => boolean,
  timeoutMs = 15_000,
): Promise<TabRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await Promise.all(pages.map(tabRecord));
    if (records.every(predicate)) return records;
    if (Date.now() > deadline) {
      throw new Error(`tabs not there after ${timeoutMs} ms: ${JSON.stringify(records.map(summary))}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

function summary(rec: TabRecord) {
  return {
    status: rec.status,
    share: rec.share,
    openAt: rec.openAt,
    events: rec.events.length,
    resyncs: rec.resyncs.length,
  };
}

/** Problems with what a tab got: each of `expected` once, in order per channel, nothing else. */
export function deliveryProblems(rec: TabRecord, expected: ReadonlyMap<string, readonly number[]>): string[] {
  const problems: string[] = [];
  const got = new Map<string, number[]>();
  for (const event of rec.events) {
    if (!expected.has(event.channel)) problems.push(`foreign channel ${event.channel}`);
    const list = got.get(event.channel) ?? [];
    got.set(event.channel, list);
    list.push(event.i);
  }
  for (const [channel, want] of expected) {
    const have = got.get(channel) ?? [];
    if (JSON.stringify(have) !== JSON.stringify(want)) {
      problems.push(`${channel}: got ${have.length} (${have.slice(0, 5).join(',')}…), want ${want.length}`);
    }
  }
  if (rec.resyncs.length > 0) problems.push(`resyncs: ${JSON.stringify(rec.resyncs)}`);
  return problems;
}

/**
 * Publishes `count` ticks `{ i }` round-robin over `channels` at `perSecond`, recording in
 * `expected` what went where as it goes (so a test can act in the middle); returns `expected`.
 */
export async function publishTicks(
  site: Site,
  channels: readonly string[],
  count: number,
  perSecond: number,
  expected = new Map<string, number[]>(),
  from = 0,
): Promise<Map<string, number[]>> {
  for (let i = from; i < from + count; i++) {
    const channel = channels[i % channels.length]!;
    await site.hub.publish(channel, 'tick', { i });
    const list = expected.get(channel) ?? [];
    expected.set(channel, list);
    list.push(i);
    await new Promise((r) => setTimeout(r, 1000 / perSecond));
  }
  return expected;
}

/** Every tab passed to `track` is closed after each test, and its streams gone before the next. */
export function closedAfterEach(site: () => Site): { track(pages: Page[]): Page[] } {
  const opened = new Set<Page>();
  afterEach(async () => {
    for (const page of opened) if (!page.isClosed()) await page.close();
    opened.clear();
    await vi.waitFor(() => expect(site().hub.stats().connections).toBe(0), { timeout: 10_000 });
  });
  return {
    track(pages) {
      for (const page of pages) opened.add(page);
      return pages;
    },
  };
}
