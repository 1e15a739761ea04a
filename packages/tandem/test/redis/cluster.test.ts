import { createClient } from 'redis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LiveEvent } from '../../src/protocol';
import type { Hub } from '../../src/server';
import type { ChildHub } from '../helpers/child-hub';
import { type RedisServer, startRedis } from '../helpers/redis-server';
import { sleep } from '../helpers/wait';
import { getJson, openRaw } from '../server/sse-reader';
import { type Envelope, Follower, type RedisHub, startRedisChildHub, startRedisHub } from './cluster-helpers';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const offsets = (events: Envelope[]) => events.map((e) => e.offset);

/** Publishes, retrying while the broker is unavailable (Redis restarting), for at most 15 s. */
async function publishRetrying(hub: Hub, channel: string, data: unknown): Promise<LiveEvent> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await hub.publish(channel, 'tick', data);
    } catch (error) {
      expect(error).toMatchObject({ code: 'broker_unavailable' });
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

describe('hubs on one Redis', () => {
  let redis: RedisServer | undefined;
  const hubs: RedisHub[] = [];
  const children: ChildHub[] = [];
  const followers: Follower[] = [];

  const setup = async (options: { aof?: boolean } = {}) => {
    redis = await startRedis(options);
    const a = await startRedisHub(redis.url);
    const b = await startRedisHub(redis.url);
    hubs.push(a, b);
    return { redis, a, b };
  };
  const follow = async (urls: string[], channel: string) => {
    const follower = new Follower(urls, channel);
    followers.push(follower);
    await follower.connect();
    return follower;
  };

  afterEach(async () => {
    for (const f of followers.splice(0)) f.close();
    await Promise.all(children.splice(0).map((c) => c.kill9()));
    await Promise.all(hubs.splice(0).map((h) => h.close()));
    await redis?.stop();
    redis = undefined;
  });

  it('delivers events published on hub A to subscribers of hub B', async () => {
    const { a, b } = await setup();
    const onB = await follow([b.url], 'room:1');
    const onA = await follow([a.url], 'room:1');
    for (let i = 1; i <= 20; i++) await a.hub.publish('room:1', 'tick', { i });
    await onB.waitFor(20);
    await onA.waitFor(20);
    expect(offsets(onB.events)).toEqual(range(1, 20));
    expect(onB.events.map((e) => e.data)).toEqual(range(1, 20).map((i) => ({ i })));
    expect(onB.events).toEqual(onA.events);
  });

  it('wakes a long poll on hub B with an event published on hub A', async () => {
    const { a, b } = await setup();
    const first = await getJson(`${b.url}/poll?channels=orders`);
    const { cursor } = first.body as { cursor: string };
    const polling = getJson(`${b.url}/poll?channels=orders&wait=20&cursor=${encodeURIComponent(cursor)}`);
    await vi.waitFor(() => expect(b.hub.stats().waiters).toBe(1), { timeout: 10_000 });
    await a.hub.publish('orders', 'tick', 'woken');
    // The event wakes the poll, long before its 20 s deadline.
    await vi.waitFor(() => expect(b.hub.stats().waiters).toBe(0), { timeout: 10_000 });
    const woken = await polling;
    expect(woken.status).toBe(200);
    expect((woken.body as { events: LiveEvent[] }).events.map((e) => e.data)).toEqual(['woken']);
  });

  it('leaves no subscription behind when the streams of a hub end', async () => {
    const { a, b } = await setup();
    const streams = await Promise.all(
      range(1, 20).map((i) => follow([i % 2 ? a.url : b.url], `room:${Math.floor(i / 2) % 4}`)),
    );
    expect(a.broker.stats()).toMatchObject({ channels: 4, listeners: 4 });
    expect(b.broker.stats()).toMatchObject({ channels: 4, listeners: 4 });
    for (const s of streams) s.close();
    const deadline = Date.now() + 5000;
    while (a.broker.stats().listeners + b.broker.stats().listeners > 0 && Date.now() < deadline)
      await sleep(20);
    expect(a.broker.stats()).toMatchObject({ channels: 0, listeners: 0 });
    expect(b.broker.stats()).toMatchObject({ channels: 0, listeners: 0 });
  });

  it('resumes a client moved from hub A to hub B from its cursor, without loss or duplicates', async () => {
    const { a, b } = await setup();
    const client = await follow([a.url], 'orders');
    let stop = false;
    let published = 0;
    const publisher = (async () => {
      while (!stop && published < 400) {
        await (published % 2 ? a : b).hub.publish('orders', 'tick', ++published);
        if (published % 10 === 0) await sleep(1);
      }
    })();
    await client.waitFor(50);
    await client.moveTo(b.url);
    await client.waitFor(150);
    await client.moveTo(a.url);
    await client.waitFor(250);
    stop = true;
    await publisher;
    // A fence: once an event published after all others has arrived, so has any duplicate.
    await a.hub.publish('orders', 'tick', ++published);
    await client.waitFor(published);
    expect(offsets(client.events)).toEqual(range(1, published));
    expect(client.resyncs).toEqual([]);
    expect(client.hellos.slice(1).map((h) => h.channels.orders?.recovered)).toEqual([true, true]);
  });

  it('moves the clients of a hub killed with SIGKILL to another hub without losing an event', async () => {
    const { redis: server, b } = await setup();
    const a = await startRedisChildHub(server.url);
    children.push(a);
    const clients = await Promise.all(range(1, 5).map(() => follow([a.url, b.url], 'feed')));
    // Publishes until 50 events after the kill, pacing itself (5 ms per 5 events) so that the
    // kill lands mid-stream.
    let published = 0;
    let killed = false;
    const publisher = (async () => {
      for (let after = 0; after < 50; ) {
        await b.hub.publish('feed', 'tick', ++published);
        if (killed) after++;
        if (published % 5 === 0) await sleep(5);
      }
    })();
    await Promise.all(clients.map((c) => c.waitFor(60)));
    await a.kill9();
    killed = true;
    await publisher;
    for (const client of clients) {
      await client.waitFor(published, 15_000);
      expect(offsets(client.events)).toEqual(range(1, published));
      expect(client.resyncs).toEqual([]);
      expect(client.connections).toBeGreaterThanOrEqual(2);
    }
  });

  it('loses no event when Redis restarts with AOF, and streams stay open meanwhile', async () => {
    const { redis: server, a, b } = await setup({ aof: true });
    const onA = await follow([a.url], 'audit');
    const onB = await follow([b.url], 'audit');
    for (let i = 1; i <= 10; i++) await a.hub.publish('audit', 'tick', i);
    await onA.waitFor(10);
    await server.kill9();
    await expect(b.hub.publish('audit', 'tick', 'refused')).rejects.toMatchObject({
      code: 'broker_unavailable',
    });
    const poll = await getJson(`${b.url}/poll?channels=audit`);
    expect(poll.status).toBe(503);
    expect(poll.body).toMatchObject({ error: { code: 'broker_unavailable' } });
    const refused = await openRaw(`${b.url}/stream?channels=audit`);
    expect(refused.status).toBe(503);
    refused.close();
    // More than two heartbeats with Redis down: the streams stay open.
    const pings = [onA.pings, onB.pings];
    await vi.waitFor(
      () => {
        expect(onA.pings).toBeGreaterThanOrEqual(pings[0]! + 3);
        expect(onB.pings).toBeGreaterThanOrEqual(pings[1]! + 3);
      },
      { timeout: 15_000 },
    );
    await server.restart();
    for (let i = 11; i <= 20; i++) await publishRetrying(i % 2 ? a.hub : b.hub, 'audit', i);
    await onA.waitFor(20);
    await onB.waitFor(20);
    for (const client of [onA, onB]) {
      expect(offsets(client.events)).toEqual(range(1, 20));
      expect(client.events.map((e) => e.data)).toEqual(range(1, 20));
      expect(client.resyncs).toEqual([]);
      expect(client.connections).toBe(1);
    }
  });

  it('tells every client to resync when Redis is flushed, never a silent gap', async () => {
    const { redis: server, a, b } = await setup();
    const clients = [await follow([a.url], 'board'), await follow([b.url], 'board')];
    for (let i = 1; i <= 5; i++) await a.hub.publish('board', 'tick', i);
    await Promise.all(clients.map((c) => c.waitFor(5)));
    const oldEpoch = clients[0]!.events[0]!.epoch;
    const admin = createClient({ url: server.url });
    await admin.connect();
    await admin.flushAll();
    admin.destroy();
    const next = await b.hub.publish('board', 'tick', 'after flush');
    expect(next.epoch).not.toBe(oldEpoch);
    for (const client of clients) {
      await client.waitFor(6);
      expect(client.resyncs).toEqual([{ channels: ['board'], reason: 'epoch' }]);
      expect(client.events[5]).toMatchObject({ epoch: next.epoch, offset: 1, data: 'after flush' });
    }
    // A client that comes back with a cursor from the lost log is told too.
    const returning = new Follower([a.url], 'board');
    followers.push(returning);
    const stale = clients[0]!.events[4]!.id;
    await returning.connectWithCursor(stale);
    await returning.waitForResyncs(1);
    expect(returning.resyncs).toEqual([{ channels: ['board'], reason: 'epoch' }]);
  });

  it('tells every client to resync when Redis restarts without persistence', async () => {
    const { redis: server, a, b } = await setup({ aof: false });
    const clients = [await follow([a.url], 'board'), await follow([b.url], 'board')];
    for (let i = 1; i <= 5; i++) await a.hub.publish('board', 'tick', i);
    await Promise.all(clients.map((c) => c.waitFor(5)));
    const cursor = clients[1]!.cursor;
    await server.restart();
    const next = await publishRetrying(b.hub, 'board', 'after restart');
    expect(next.offset).toBe(1);
    for (const client of clients) {
      await client.waitFor(6);
      expect(client.resyncs).toEqual([{ channels: ['board'], reason: 'epoch' }]);
      expect(offsets(client.events)).toEqual([1, 2, 3, 4, 5, 1]);
    }
    const returning = new Follower([b.url], 'board');
    followers.push(returning);
    await returning.connectWithCursor(cursor);
    await returning.waitForResyncs(1);
    expect(returning.resyncs).toEqual([{ channels: ['board'], reason: 'epoch' }]);
  });

  it("repairs what a hub's subscription missed, so its clients see no gap and need no reconnect", async () => {
    const { redis: server, a, b } = await setup();
    const clients = [await follow([b.url], 'ticker'), await follow([b.url], 'ticker')];
    const admin = createClient({ url: server.url });
    await admin.connect();
    try {
      for (let i = 1; i <= 150; i++) {
        await a.hub.publish('ticker', 'tick', i);
        // Drop every pub/sub connection now and then: notifications published meanwhile are lost.
        if (i % 40 === 0) await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
      }
    } finally {
      admin.destroy();
    }
    for (const client of clients) {
      await client.waitFor(150);
      expect(offsets(client.events)).toEqual(range(1, 150));
      expect(client.resyncs).toEqual([]);
      expect(client.connections).toBe(1);
    }
  });

  it('gives 10 concurrent publishers on 2 hubs contiguous offsets and every subscriber one order', async () => {
    const { a, b } = await setup();
    const clients = await Promise.all(range(1, 6).map((i) => follow([i % 2 ? a.url : b.url], 'contended')));
    const results = await Promise.all(
      range(1, 10).map(async (p) => {
        const hub = p % 2 ? a.hub : b.hub;
        const mine: LiveEvent[] = [];
        for (let i = 0; i < 30; i++) mine.push(await hub.publish('contended', 'tick', `${p}/${i}`));
        return mine;
      }),
    );
    const all = results.flat().map((e) => e.offset);
    expect(all.sort((x, y) => x - y)).toEqual(range(1, 300));
    // Each publisher's own events keep their order.
    for (const mine of results) {
      expect(mine.map((e) => e.offset)).toEqual([...mine.map((e) => e.offset)].sort((x, y) => x - y));
    }
    await Promise.all(clients.map((c) => c.waitFor(300)));
    const reference = clients[0]!.events.map((e) => `${e.offset}:${e.data}`);
    expect(offsets(clients[0]!.events)).toEqual(range(1, 300));
    for (const client of clients) {
      expect(client.events.map((e) => `${e.offset}:${e.data}`)).toEqual(reference);
      expect(client.resyncs).toEqual([]);
    }
  });
});
