import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtAuthorizer } from '../../src/jwt';
import { createHub, type Hub, memoryBroker } from '../../src/server';
import { launchChromium, type TestBrowser } from '../helpers/chromium';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy';
import { clientScript } from '../helpers/tabs';
import { sleep } from '../helpers/wait';

/**
 * The client as a browser runs it: bundled, in Chromium, with the platform's own fetch
 * streaming, EventSource, sessionStorage and visibility, against a real hub behind the fault
 * proxy (page and hub share an origin, as in an app).
 */
const PAGE = `<!doctype html><meta charset="utf-8"><title>tandem client</title><script src="/client.js"></script>`;

interface Site {
  hub: Hub;
  proxy: FaultProxy;
  /** Requests the server saw, by path. */
  requests: string[];
  close(): Promise<void>;
}

let script = '';
let context: BrowserContext;
let browser: TestBrowser | undefined;
let site: Site;

/** A page and a hub on one origin, behind the fault proxy. */
async function startSite(options: Parameters<typeof createHub>[0] = {}): Promise<Site> {
  const broker = memoryBroker();
  const hub = createHub({ broker, ...options });
  const handle = hub.node;
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    } else if (req.url === '/client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else {
      requests.push(req.url ?? '');
      handle(req, res);
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const proxy = await startFaultProxy((server.address() as AddressInfo).port);
  return {
    hub,
    proxy,
    requests,
    async close() {
      await proxy.close();
      await hub.close();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await broker.close();
    },
  };
}

beforeAll(async () => {
  script = await clientScript();
  site = await startSite();
  browser = await launchChromium();
  context = browser.context;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

interface PageRecord {
  events: Array<{ channel: string; offset: number; i: number; source: string }>;
  resyncs: number;
  status: string;
  error: string | null;
}

/** Starts a client in the page that records what its app sees. */
async function startClient(
  page: Page,
  transport: 'fetch' | 'eventsource',
  channels: string[],
  token?: string,
): Promise<void> {
  await page.evaluate(
    ({ transport, channels, token }) => {
      const w = window as unknown as {
        Tandem: typeof import('../../src/client');
        rec: PageRecord;
        client: import('../../src/client').LiveClient;
      };
      w.rec = { events: [], resyncs: 0, status: 'connecting', error: null };
      w.client = w.Tandem.createLiveClient({
        url: '/live',
        channels,
        transport: transport === 'eventsource' ? w.Tandem.eventSourceTransport() : undefined,
        token,
        eventTypes: ['tick'],
      });
      w.client.onAny((_type, data, meta) => {
        w.rec.events.push({
          channel: meta.channel,
          offset: meta.offset,
          i: (data as { i: number }).i,
          source: meta.source,
        });
      });
      w.client.onResync(() => {
        w.rec.resyncs++;
      });
      w.client.subscribeState((s) => {
        w.rec.status = s.status;
        w.rec.error = s.lastError?.code ?? null;
      });
      w.client.start();
    },
    { transport, channels, token },
  );
}

const record = (page: Page) => page.evaluate(() => (window as unknown as { rec: PageRecord }).rec);

async function waitFor(
  page: Page,
  predicate: (rec: PageRecord) => boolean,
  timeoutMs: number,
): Promise<PageRecord> {
  // The record is returned even when the predicate never held: the caller's assertions on it
  // then say what is missing.
  let last = await record(page);
  const deadline = Date.now() + timeoutMs;
  while (!predicate(last) && Date.now() < deadline) {
    await sleep(50);
    last = await record(page);
  }
  return last;
}

function checkExactlyOnce(rec: PageRecord, expected: number[]): void {
  expect(rec.events.map((e) => e.i).sort((a, b) => a - b)).toEqual(expected);
  const last = new Map<string, number>();
  for (const e of rec.events) {
    const previous = last.get(e.channel);
    if (previous !== undefined) expect(e.offset).toBe(previous + 1);
    last.set(e.channel, e.offset);
  }
}

describe.each(['fetch', 'eventsource'] as const)('in Chromium (%s transport)', (transport) => {
  it('delivers every event exactly once through cuts, and resumes after a page reload', async () => {
    const channels = [`browser:${transport}:a`, `browser:${transport}:b`];
    const page = await context.newPage();
    await page.goto(site.proxy.url('/'));
    await startClient(page, transport, channels);
    expect((await waitFor(page, (r) => r.status === 'open', 10_000)).status).toBe('open');

    let i = 0;
    const publish = async (n: number) => {
      for (const end = i + n; i < end; i++) await site.hub.publish(channels[i % 2]!, 'tick', { i });
    };
    for (let round = 0; round < 4; round++) {
      await publish(25);
      site.proxy.cut(round % 2 ? 'fin' : 'rst');
      await publish(25);
      // The next cut hits a stream that is back and caught up.
      await waitFor(page, (r) => r.status === 'open' && r.events.length >= i, 10_000);
    }
    const first = await waitFor(page, (r) => r.events.length >= i, 10_000);
    checkExactlyOnce(
      first,
      Array.from({ length: i }, (_, k) => k),
    );
    expect(first.resyncs).toBe(0);

    // Reload: the positions persisted in sessionStorage; what was published while no client ran
    // arrives once, and nothing the old page had is replayed.
    const before = i;
    await page.reload();
    await publish(20);
    await startClient(page, transport, channels);
    const second = await waitFor(page, (r) => r.events.length >= i - before, 10_000);
    checkExactlyOnce(
      second,
      Array.from({ length: i - before }, (_, k) => before + k),
    );
    expect(second.resyncs).toBe(0);
    await page.close();
  }, 60_000);
});

describe('in Chromium, a forbidden channel', () => {
  it.each(['fetch', 'eventsource'] as const)(
    'stops the %s transport with an error state, without a retry loop',
    async (transport) => {
      const secret = 'a-test-secret-of-enough-length-for-hs256';
      const token = await new SignJWT({ channels: ['allowed:*'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(secret));
      const guarded = await startSite({ authorize: jwtAuthorizer({ secret }) });
      try {
        const page = await context.newPage();
        await page.goto(guarded.proxy.url('/'));
        await startClient(page, transport, ['secret:x'], token);
        const rec = await waitFor(page, (r) => r.status === 'closed', 10_000);
        expect(rec).toMatchObject({ status: 'closed', error: 'forbidden' });
        // The thing under test is an absence: nothing sent past the first poll's time (3 s) and a
        // few backoff windows. Only waiting that long can show it.
        await sleep(3_500);
        // fetch reads the 403 itself; a browser's EventSource hides it, so one poll learns it.
        const requests = guarded.requests.filter((url) => url.startsWith('/live/'));
        expect(requests.length).toBeLessThanOrEqual(transport === 'fetch' ? 1 : 2);
        await page.close();
      } finally {
        await guarded.close();
      }
    },
    30_000,
  );
});
