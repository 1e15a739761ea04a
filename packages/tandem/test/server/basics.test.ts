import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HelloPayload, PollResponse } from '../../src/protocol';
import { createHub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { getJson, openRaw } from './sse-reader';

let server: HubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('hub over real HTTP', () => {
  it('streams hello, then published events with cursor ids, with the SSE headers', async () => {
    server = await startHubServer(createHub({ heartbeatMs: 50 }));
    const stream = await openRaw(`${server.url}/stream?channels=tenant:acme/orders`);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toBe('no-cache, no-transform');
    expect(stream.headers['x-accel-buffering']).toBe('no');
    expect(stream.headers.connection).toBe('keep-alive');
    // The server's own keep-alive (Node's default 5 s), not a longer promise it would break.
    expect(stream.headers['keep-alive']).toBe('timeout=5');
    expect(stream.headers['content-encoding']).toBeUndefined();

    const hello = await stream.next((e) => e.type === 'tandem:hello');
    const payload = JSON.parse(hello.data) as HelloPayload;
    expect(payload.heartbeatMs).toBe(50);
    expect(payload.channels['tenant:acme/orders']).toMatchObject({ head: 0, recovered: false });

    const published = await server.hub.publish('tenant:acme/orders', 'order:created', { id: 7 });
    const event = await stream.next((e) => e.type === 'order:created');
    expect(JSON.parse(event.data)).toEqual({
      channel: 'tenant:acme/orders',
      offset: 1,
      epoch: published.epoch,
      ts: published.ts,
      data: { id: 7 },
    });
    expect(event.lastEventId).toMatch(/^t1~/);
    await stream.next((e) => e.type === 'tandem:ping');
    stream.close();
  });

  it('resumes a stream from its Last-Event-ID with exactly the missed events', async () => {
    server = await startHubServer(createHub());
    const url = `${server.url}/stream?channels=a,b`;
    const first = await openRaw(url);
    await first.next((e) => e.type === 'tandem:hello');
    await server.hub.publish('a', 'x', 1);
    await server.hub.publish('b', 'x', 2);
    await first.next((e) => e.type === 'x' && JSON.parse(e.data).data === 2);
    const cursor = first.lastEventId;
    first.close();

    await server.hub.publish('a', 'x', 3);
    await server.hub.publish('b', 'x', 4);
    await server.hub.publish('a', 'x', 5);
    const second = await openRaw(url, { 'last-event-id': cursor });
    const hello = JSON.parse((await second.next((e) => e.type === 'tandem:hello')).data) as HelloPayload;
    expect(hello.channels.a?.recovered).toBe(true);
    await server.hub.publish('b', 'x', 6);
    await second.next((e) => e.type === 'x' && JSON.parse(e.data).data === 6);
    expect(second.appEvents().map((e) => e.data)).toEqual([3, 5, 4, 6]);
    expect(second.events.some((e) => e.type === 'tandem:resync')).toBe(false);
    second.close();
  });

  it('polls with the same cursor, answers 304 when nothing is new, and long-polls', async () => {
    server = await startHubServer(createHub());
    const base = `${server.url}/poll?channels=a`;
    const empty = await getJson(base);
    expect(empty.status).toBe(200);
    const body = empty.body as PollResponse;
    expect(body).toMatchObject({ events: [], resync: null });

    await server.hub.publish('a', 'x', 1);
    const next = await getJson(`${base}&cursor=${body.cursor}`);
    const nextBody = next.body as PollResponse;
    expect(nextBody.events.map((e) => e.data)).toEqual([1]);

    const etag = next.headers.get('etag')!;
    const same = await getJson(`${base}&cursor=${nextBody.cursor}`, { 'if-none-match': etag });
    expect(same.status).toBe(304);

    // A long poll held until an event arrives: the event wakes it, 25 s before its deadline.
    const waiting = getJson(`${base}&cursor=${nextBody.cursor}&wait=25`);
    await vi.waitFor(() => expect(server!.hub.stats().waiters).toBe(1), { timeout: 10_000 });
    await server.hub.publish('a', 'x', 2);
    await vi.waitFor(() => expect(server!.hub.stats().waiters).toBe(0), { timeout: 10_000 });
    const woke = await waiting;
    expect((woke.body as PollResponse).events.map((e) => e.data)).toEqual([2]);
  });

  it('ends streams with tandem:bye on close and refuses new requests with 503', async () => {
    const hub = createHub();
    server = await startHubServer(hub);
    const stream = await openRaw(`${server.url}/stream?channels=a`);
    await stream.next((e) => e.type === 'tandem:hello');
    const closing = hub.close();
    const bye = await stream.next((e) => e.type === 'tandem:bye');
    expect(JSON.parse(bye.data)).toMatchObject({ reason: 'shutdown' });
    await stream.ended;
    await closing;
    const refused = await getJson(`${server.url}/poll?channels=a`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(refused.body).toMatchObject({ error: { code: 'shutting_down' } });
    expect(hub.stats()).toMatchObject({ connections: 0, channels: 0, responses: 0, heartbeat: false });
  });
});
