import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LiveEvent } from '../../src/protocol';
import { type RedisBroker, redisBroker } from '../../src/redis';
import { waitForCount } from '../../src/testing';
import { type RedisServer, rawCommand, startRedis } from '../helpers/redis-server';
import { sleep } from '../helpers/wait';

let n = 0;
const fresh = (name: string) => `test:${name}-${n++}`;

/** Offsets as `epoch:offset`, the order a listener saw them in. */
const positions = (events: LiveEvent[]) => events.map((e) => `${e.epoch}:${e.offset}`);

async function rejection(promise: Promise<unknown>): Promise<{ code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('redisBroker on one Redis server', () => {
  let redis: RedisServer;
  const brokers: RedisBroker[] = [];
  const open = async (options: Parameters<typeof redisBroker>[0] = {}) => {
    const broker = redisBroker({ url: redis.url, ...options });
    brokers.push(broker);
    await broker.ready();
    return broker;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('delivers events appended in one process to listeners in another', async () => {
    const a = await open();
    const b = await open();
    const channel = fresh('cross');
    const seen: LiveEvent[] = [];
    b.subscribe(channel, (e) => seen.push(e));
    const appended = [];
    for (let i = 1; i <= 10; i++) appended.push(await a.append(channel, 'tick', { i }));
    await waitForCount(seen, 10);
    expect(seen).toEqual(appended);
  });

  it('lays a channel out as a meta hash and a stream keyed by offset', async () => {
    const broker = await open({ prefix: 'layout' });
    const channel = fresh('keys');
    const event = await broker.append(channel, 'order:created', { id: 7 });
    const raw = createClient({ url: redis.url });
    await raw.connect();
    try {
      const meta = await raw.hGetAll(`layout:{${channel}}:meta`);
      expect(meta).toMatchObject({ epoch: event.epoch, head: '1', ts: String(event.ts) });
      const entries = await raw.xRange(`layout:{${channel}}:log`, '-', '+');
      expect(entries).toEqual([
        { id: '1-0', message: { ts: String(event.ts), t: 'order:created', d: '{"id":7}' } },
      ]);
      // Idle channels expire (default one day), refreshed on every use.
      for (const key of [`layout:{${channel}}:meta`, `layout:{${channel}}:log`]) {
        const ttl = await raw.pTTL(key);
        expect(ttl).toBeGreaterThan(86_000_000);
        expect(ttl).toBeLessThanOrEqual(86_400_000);
      }
    } finally {
      raw.destroy();
    }
  });

  it('refuses an event type that could inject SSE fields', async () => {
    const broker = await open();
    expect(await rejection(broker.append(fresh('inject'), 'a\nb', 1))).toMatchObject({
      code: 'invalid_field',
    });
  });

  it('works with a client the app created, and leaves it open on close', async () => {
    const client = createClient({ url: redis.url, disableOfflineQueue: true });
    await client.connect();
    try {
      const broker = redisBroker({ client });
      await broker.ready();
      const channel = fresh('own-client');
      const seen: LiveEvent[] = [];
      broker.subscribe(channel, (e) => seen.push(e));
      await broker.append(channel, 't', 1);
      await waitForCount(seen, 1);
      await broker.close();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.destroy();
    }
  });

  it('works when used right after creation, before the connection is up', async () => {
    const broker = redisBroker({ url: redis.url });
    brokers.push(broker);
    const channel = fresh('early');
    const seen: LiveEvent[] = [];
    broker.subscribe(channel, (e) => seen.push(e));
    await broker.append(channel, 't', 1);
    await broker.append(channel, 't', 2);
    await waitForCount(seen, 2);
    expect(seen.map((e) => e.offset)).toEqual([1, 2]);
  });

  it('repairs what its subscription missed while pub/sub was disconnected', async () => {
    const publisher = await open();
    const subscriber = await open();
    const channel = fresh('repair');
    const seen: LiveEvent[] = [];
    subscriber.subscribe(channel, (e) => seen.push(e));
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      for (let i = 1; i <= 100; i++) {
        await publisher.append(channel, 't', i);
        // Cut every pub/sub connection a few times mid-stream: notifications are lost.
        if (i % 30 === 0) await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
      }
    } finally {
      admin.destroy();
    }
    // A fence: once an event appended after all others has arrived, so has any duplicate.
    await publisher.append(channel, 't', 101);
    await waitForCount(seen, 101, 10_000);
    expect(seen.map((e) => e.offset)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
    expect(seen.map((e) => e.data)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
  });

  it('gives all concurrent publishers of several processes one contiguous order', async () => {
    const a = await open();
    const b = await open();
    const channel = fresh('contend');
    const seenA: LiveEvent[] = [];
    const seenB: LiveEvent[] = [];
    a.subscribe(channel, (e) => seenA.push(e));
    b.subscribe(channel, (e) => seenB.push(e));
    await Promise.all(
      Array.from({ length: 10 }, (_, p) =>
        (async () => {
          for (let i = 0; i < 20; i++) await (p % 2 ? a : b).append(channel, 't', `${p}/${i}`);
        })(),
      ),
    );
    await waitForCount(seenA, 200);
    await waitForCount(seenB, 200);
    expect(seenA.map((e) => e.offset)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(seenB).toEqual(seenA);
  });
});

describe('redisBroker publish order when Redis has not cached its scripts', () => {
  let redis: RedisServer | undefined;
  const brokers: RedisBroker[] = [];
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((b) => b.close()));
    await redis?.stop();
    redis = undefined;
  });

  /**
   * Fires `count` appends without awaiting any, ten per macrotask (as when they come from
   * separate requests, so some go out after the first replies came back); returns each call's
   * offset, in call order.
   */
  const burst = async (broker: RedisBroker, channel: string, count: number, from: number) => {
    const calls: Promise<LiveEvent>[] = [];
    for (let i = 0; i < count; i++) {
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
      calls.push(broker.append(channel, 't', from + i));
    }
    return (await Promise.all(calls)).map((e) => e.offset);
  };
  /** Calls whose offset is below an earlier call's. */
  const outOfOrder = (offsets: number[]) => {
    let max = 0;
    let count = 0;
    for (const o of offsets) {
      if (o < max) count++;
      max = Math.max(max, o);
    }
    return count;
  };

  it('gives offsets in call order on first use, after SCRIPT FLUSH and after a restart', async () => {
    redis = await startRedis({ aof: true });
    const broker = redisBroker({ url: redis.url, commandTimeoutMs: 2000 });
    // Another process publishing on the same Redis, which loads the scripts too.
    const other = redisBroker({ url: redis.url, commandTimeoutMs: 2000 });
    brokers.push(broker, other);
    await Promise.all([broker.ready(), other.ready()]);
    const channel = fresh('order');
    const runs: number[][] = [];

    // First use: nothing cached yet.
    await rawCommand(redis.port, 'SCRIPT FLUSH');
    runs.push(await burst(broker, channel, 300, 0));
    for (let round = 1; round <= 3; round++) {
      await rawCommand(redis.port, 'SCRIPT FLUSH');
      const [mine] = await Promise.all([
        burst(broker, channel, 300, round * 300),
        burst(other, fresh('o'), 50, 0),
      ]);
      runs.push(mine);
    }
    await redis.restart();
    const deadline = Date.now() + 10_000;
    while (
      !(await broker.read(channel, 0, 0).then(
        () => true,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error('the broker did not reconnect');
      await sleep(50);
    }
    runs.push(await burst(broker, channel, 300, 1200));

    expect(runs.map(outOfOrder)).toEqual([0, 0, 0, 0, 0]);
    const all = runs.flat();
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    // And the log holds the events in call order.
    const read = await broker.read(channel, 0);
    expect(read.events.map((e) => e.data)).toEqual(Array.from({ length: 1500 }, (_, i) => i));
  });
});

describe('redisBroker when Redis fails', () => {
  let redis: RedisServer | undefined;
  const brokers: RedisBroker[] = [];
  const open = async (server: RedisServer) => {
    const broker = redisBroker({ url: server.url, commandTimeoutMs: 1000 });
    brokers.push(broker);
    await broker.ready();
    return broker;
  };
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((b) => b.close()));
    await redis?.stop();
    redis = undefined;
  });

  it('rejects appends at once while Redis is down, keeps listeners, and loses nothing after an AOF restart', async () => {
    redis = await startRedis({ aof: true });
    const publisher = await open(redis);
    const subscriber = await open(redis);
    const channel = fresh('aof');
    const seen: LiveEvent[] = [];
    subscriber.subscribe(channel, (e) => seen.push(e));
    for (let i = 1; i <= 5; i++) await publisher.append(channel, 't', i);
    await waitForCount(seen, 5);
    const { epoch } = seen[0]!;

    await redis.kill9();
    // Rejected while Redis is still down (Redis comes back only below): not queued until then.
    const failure = await rejection(publisher.append(channel, 't', 'lost?'));
    expect(failure).toMatchObject({ code: 'broker_unavailable' });
    expect(await rejection(publisher.read(channel, 0))).toMatchObject({ code: 'broker_unavailable' });

    await redis.restart();
    // The publisher reconnects on its own; retry until it does (bounded).
    const deadline = Date.now() + 10_000;
    for (let i = 6; i <= 10; ) {
      try {
        await publisher.append(channel, 't', i);
        i++;
      } catch (error) {
        expect(error).toMatchObject({ code: 'broker_unavailable' });
        if (Date.now() > deadline) throw error;
        await sleep(50);
      }
    }
    await waitForCount(seen, 10, 10_000);
    expect(positions(seen)).toEqual(Array.from({ length: 10 }, (_, i) => `${epoch}:${i + 1}`));
    expect((await publisher.read(channel, 0)).events.map((e) => e.data)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
  });

  it('starts a new epoch when Redis comes back without its data, and listeners see it', async () => {
    redis = await startRedis({ aof: false });
    const broker = await open(redis);
    const other = await open(redis);
    const channel = fresh('amnesia');
    const seen: LiveEvent[] = [];
    broker.subscribe(channel, (e) => seen.push(e));
    const before = await other.append(channel, 't', 'before');
    await waitForCount(seen, 1);

    await redis.restart();
    const deadline = Date.now() + 10_000;
    let after: LiveEvent | undefined;
    while (!after) {
      try {
        after = await other.append(channel, 't', 'after');
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(50);
      }
    }
    expect(after.epoch).not.toBe(before.epoch);
    expect(after.offset).toBe(1);
    await waitForCount(seen, 2, 10_000);
    expect(seen.map((e) => [e.epoch, e.offset, e.data])).toEqual([
      [before.epoch, 1, 'before'],
      [after.epoch, 1, 'after'],
    ]);
    expect(await broker.info(channel)).toMatchObject({ epoch: after.epoch, head: 1, oldest: 1 });
  });

  it('starts a new epoch after FLUSHALL, and listeners see it', async () => {
    redis = await startRedis();
    const broker = await open(redis);
    const channel = fresh('flush');
    const seen: LiveEvent[] = [];
    broker.subscribe(channel, (e) => seen.push(e));
    const first = await broker.append(channel, 't', 1);
    await broker.append(channel, 't', 2);
    const admin = createClient({ url: redis.url });
    await admin.connect();
    await admin.flushAll();
    admin.destroy();
    const next = await broker.append(channel, 't', 3);
    expect(next.epoch).not.toBe(first.epoch);
    await waitForCount(seen, 3);
    expect(positions(seen)).toEqual([`${first.epoch}:1`, `${first.epoch}:2`, `${next.epoch}:1`]);
    const info = await broker.info(channel);
    expect(info).toMatchObject({ epoch: next.epoch, head: 1, oldest: 1 });
  });

  it('retires a log that went back in time, so reused offsets can never look like duplicates', async () => {
    redis = await startRedis();
    const broker = await open(redis);
    const channel = fresh('rewind');
    const seen: LiveEvent[] = [];
    broker.subscribe(channel, (e) => seen.push(e));
    for (let i = 1; i <= 5; i++) await broker.append(channel, 't', i);
    await waitForCount(seen, 5);
    const { epoch } = seen[0]!;
    // What a failover to a lagging replica looks like: same epoch, events 4 and 5 gone.
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await admin.hSet(`tandem:{${channel}}:meta`, 'head', '3');
      await admin.xDel(`tandem:{${channel}}:log`, ['4-0', '5-0']);
      await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
      const deadline = Date.now() + 10_000;
      while ((await admin.hGet(`tandem:{${channel}}:meta`, 'epoch')) === epoch) {
        if (Date.now() > deadline) throw new Error('the rewound log was not retired');
        await sleep(20);
      }
    } finally {
      admin.destroy();
    }
    const next = await broker.append(channel, 't', 'new');
    expect(next).toMatchObject({ offset: 1 });
    expect(next.epoch).not.toBe(epoch);
    await waitForCount(seen, 6);
    expect(positions(seen).slice(4)).toEqual([`${epoch}:5`, `${next.epoch}:1`]);
  });

  it('closes promptly while Redis is unreachable', async () => {
    redis = await startRedis();
    const broker = await open(redis);
    broker.subscribe(fresh('closing'), () => {});
    await redis.kill9();
    // Resolves while Redis stays down: close() does not wait for a reconnect that never comes.
    await broker.close();
    brokers.splice(brokers.indexOf(broker), 1);
  });
});
