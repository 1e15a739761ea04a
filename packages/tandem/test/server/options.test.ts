import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HelloPayload, PollResponse } from '../../src/protocol';
import { createHub, globalHub, HUB_DEFAULTS } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { getJson, openRaw } from './sse-reader';

let server: HubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('maxConnections', () => {
  it('answers 429 with Retry-After beyond the limit, and accepts again when a stream leaves', async () => {
    server = await startHubServer(createHub({ maxConnections: 2, retryAfterSeconds: 3 }));
    const a = await openRaw(`${server.url}/stream?channels=x`);
    const b = await openRaw(`${server.url}/stream?channels=x`);
    const refused = await getJson(`${server.url}/stream?channels=x`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(refused.body).toMatchObject({ error: { code: 'too_many_connections' } });
    a.close();
    await a.ended;
    await vi.waitFor(() => expect(server!.hub.stats().connections).toBe(1), { timeout: 10_000 });
    const c = await openRaw(`${server.url}/stream?channels=x`);
    expect(c.status).toBe(200);
    b.close();
    c.close();
  });
});

describe('maxConnections by default', () => {
  it('is finite: past HUB_DEFAULTS.maxConnections streams, a hub with no option answers 429', async () => {
    expect(Number.isFinite(HUB_DEFAULTS.maxConnections)).toBe(true);
    const hub = createHub();
    const open: Response[] = [];
    try {
      // Through the Fetch handler: each stream is a Response in this process, no socket.
      for (let i = 0; i < HUB_DEFAULTS.maxConnections; i++) {
        open.push(await hub.fetch(new Request('http://localhost/stream?channels=c')));
      }
      expect(open.every((r) => r.status === 200)).toBe(true);
      expect(hub.stats().connections).toBe(HUB_DEFAULTS.maxConnections);
      const refused = await hub.fetch(new Request('http://localhost/stream?channels=c'));
      expect(refused.status).toBe(429);
    } finally {
      await Promise.all(open.map((r) => r.body?.cancel()));
      await hub.close();
    }
  }, 120_000);
});

describe('cors', () => {
  it('answers preflights allowing Last-Event-ID and Authorization, and tags responses for allowed origins', async () => {
    server = await startHubServer(
      createHub({ cors: { origin: ['https://app.example'], credentials: true } }),
    );
    const preflight = await fetch(`${server.url}/stream?channels=x`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'last-event-id, authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    const allowed = preflight.headers.get('access-control-allow-headers')!.toLowerCase();
    expect(allowed).toContain('last-event-id');
    expect(allowed).toContain('authorization');

    const poll = await getJson(`${server.url}/poll?channels=x`, { origin: 'https://app.example' });
    expect(poll.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(poll.headers.get('access-control-expose-headers')).toContain('ETag');
    expect(poll.headers.get('vary')).toBe('Origin');
    const stranger = await getJson(`${server.url}/poll?channels=x`, { origin: 'https://evil.example' });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('cors with credentials', () => {
  it('refuses at createHub a configuration that would reflect every origin with credentials', () => {
    for (const cors of [{ credentials: true }, { origin: '*', credentials: true }]) {
      expect(() => createHub({ cors })).toThrow(/credentials.*explicit origin/);
    }
  });

  it('takes credentials with a list or a predicate, and grants them to those origins only', async () => {
    server = await startHubServer(
      createHub({ cors: { origin: (o) => o.endsWith('.app.example'), credentials: true } }),
    );
    const allowed = await getJson(`${server.url}/poll?channels=x`, { origin: 'https://eu.app.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://eu.app.example');
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    const stranger = await getJson(`${server.url}/poll?channels=x`, { origin: 'https://evil.example' });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    expect(stranger.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe("offline: 'undelivered'", () => {
  it('hands a cursorless connection the events nobody received yet, to each connection that comes while they are undelivered', async () => {
    server = await startHubServer(createHub({ offline: 'undelivered' }));
    const { hub, url } = server;
    await hub.publish('tenant:acme', 'note', 1);
    await hub.publish('tenant:acme', 'note', 2);
    // Two tabs of the tenant open at once: both get the queued events.
    const [tab1, tab2] = await Promise.all([1, 2].map(() => openRaw(`${url}/stream?channels=tenant:acme`)));
    for (const tab of [tab1!, tab2!]) {
      await tab.next((e) => e.type === 'note' && JSON.parse(e.data).data === 2);
      expect(tab.appEvents().map((e) => e.data)).toEqual([1, 2]);
      const hello = JSON.parse(tab.events[0]!.data) as HelloPayload;
      expect(hello.channels['tenant:acme']).toMatchObject({ head: 2, recovered: false });
    }
    await hub.publish('tenant:acme', 'note', 3);
    await tab1!.next((e) => e.type === 'note' && JSON.parse(e.data).data === 3);
    // A later connection: everything was delivered already, so it starts live.
    const later = await getJson(`${url}/poll?channels=tenant:acme`);
    expect((later.body as PollResponse).events).toEqual([]);
    tab1!.close();
    tab2!.close();
  });

  it('is off by default: a cursorless connection starts live at the head', async () => {
    server = await startHubServer(createHub());
    await server.hub.publish('tenant:acme', 'note', 1);
    const body = (await getJson(`${server.url}/poll?channels=tenant:acme`)).body as PollResponse;
    expect(body.events).toEqual([]);
    expect(body.channels['tenant:acme']!.head).toBe(1);
  });
});

describe('mounting', () => {
  it('passes other paths to next() as Express middleware, and honours basePath', async () => {
    const hub = createHub({ basePath: '/api/live' });
    const handler = hub.node;
    const { createServer } = await import('node:http');
    const httpServer = createServer((req, res) =>
      handler(req, res, () => {
        res.writeHead(418);
        res.end('app');
      }),
    );
    await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(httpServer.address() as import('node:net').AddressInfo).port}`;
    expect((await fetch(`${base}/api/live/poll?channels=x`)).status).toBe(200);
    expect((await fetch(`${base}/other/poll?channels=x`)).status).toBe(418);
    expect((await fetch(`${base}/`)).status).toBe(418);
    await hub.close();
    httpServer.closeAllConnections();
    await new Promise((r) => httpServer.close(r));
  });

  it('has one adapter shape: fetch and node are bound handler properties, and no internals show', async () => {
    const hub = createHub();
    const { fetch: handleFetch, node } = hub;
    expect(typeof node).toBe('function');
    // The same handler every time, not one made per call.
    expect(hub.node).toBe(node);
    expect(hub.fetch).toBe(handleFetch);
    // Detached from the hub, the Fetch handler still answers.
    const response = await handleFetch(new Request('http://localhost/poll?channels=x'));
    expect(response.status).toBe(200);
    // The broker and the metrics registry are not part of the hub's surface.
    expect(Object.keys(hub)).not.toContain('broker');
    expect(Object.keys(hub)).not.toContain('registry');
    // @ts-expect-error `broker` is not a property of Hub
    expect(hub.broker).toBeUndefined();
    await hub.close();
  });

  it('globalHub returns the same hub across module reloads', async () => {
    const first = globalHub('test-reload', () => createHub());
    const second = globalHub('test-reload', () => createHub());
    expect(second).toBe(first);
    await first.close();
  });
});
