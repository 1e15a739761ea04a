import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LiveEvent } from '../../src/protocol';
import { type RedisBroker, redisBroker } from '../../src/redis';
import { createHub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { type RedisServer, startRedis } from '../helpers/redis-server';
import { openRaw, type RawStream } from '../server/sse-reader';

let n = 0;
const fresh = (name: string) => `idem:${name}-${n++}`;

describe('idempotent appends on Redis', () => {
  let redis: RedisServer;
  const brokers: RedisBroker[] = [];
  const raws: ReturnType<typeof createClient>[] = [];
  const hubs: HubServer[] = [];
  const streams: RawStream[] = [];
  const open = async (options: Parameters<typeof redisBroker>[0] = {}) => {
    const broker = redisBroker({ url: redis.url, ...options });
    brokers.push(broker);
    await broker.ready();
    return broker;
  };
  const raw = async () => {
    const client = createClient({ url: redis.url });
    raws.push(client);
    await client.connect();
    return client;
  };
  /** Every notification Redis publishes for `channel`, whoever listens. */
  const notifications = async (channel: string) => {
    const heard: string[] = [];
    await (await raw()).subscribe(`tandem:ev:${channel}`, (message) => heard.push(message));
    return heard;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await Promise.all(hubs.splice(0).map((h) => h.close()));
    await Promise.all(brokers.splice(0).map((b) => b.close()));
    for (const client of raws.splice(0)) client.destroy();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('two hubs racing the same retries append each key once, and every answer is the first event', async () => {
    const a = await open();
    const b = await open();
    const channel = fresh('race');
    const heard = await notifications(channel);
    const seen: LiveEvent[] = [];
    b.subscribe(channel, (e) => seen.push(e));
    for (let round = 1; round <= 20; round++) {
      const idempotencyKey = `publish-${round}`;
      // 25 retries from each hub at once, interleaved: several land in one script call too.
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 ? a : b).append(channel, 'tick', { round, from: i }, undefined, { idempotencyKey }),
        ),
      );
      expect(new Set(answers.map((e) => `${e.epoch}:${e.offset}`)).size).toBe(1);
      expect(answers[0]!.offset).toBe(round);
      // Whichever retry won, every answer carries its data.
      for (const answer of answers) expect(answer).toEqual(answers[0]);
    }
    const log = await a.read(channel, 0);
    expect(log.events.map((e) => e.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // One notification per key, and listeners saw each event once.
    await vi.waitFor(() => expect(seen).toHaveLength(20));
    await vi.waitFor(() => expect(heard).toHaveLength(20));
    expect(seen.map((e) => e.offset)).toEqual(log.events.map((e) => e.offset));
  });

  it('two hubs publishing the same retries: each stream receives every event once', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const [hubA, hubB] = await Promise.all([
      startHubServer(createHub({ broker: a })),
      startHubServer(createHub({ broker: b })),
    ]);
    hubs.push(hubA, hubB);
    const channel = fresh('hubs');
    const followers = await Promise.all(
      [hubA, hubB].map((h) => openRaw(`${h.url}/stream?channels=${channel}`)),
    );
    streams.push(...followers);
    await Promise.all(followers.map((s) => s.next((e) => e.type === 'tandem:hello')));
    for (let i = 1; i <= 10; i++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, k) =>
          (k % 2 ? hubA : hubB).hub.publish(channel, 'tick', i, { idempotencyKey: `order-${i}` }),
        ),
      );
      expect(answers.map((e) => e.offset)).toEqual(Array(10).fill(i));
    }
    await hubA.hub.publish(channel, 'tick', 'fence');
    for (const follower of followers) {
      await follower.next((e) => e.type === 'tick' && JSON.parse(e.data).data === 'fence');
      expect(follower.appEvents().map((e) => e.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 'fence']);
    }
  });

  it('delivers nothing for a repeat: no notification, no listener call', async () => {
    const broker = await open();
    const listener = await open();
    const channel = fresh('quiet');
    const heard = await notifications(channel);
    const seen: number[] = [];
    listener.subscribe(channel, (e) => seen.push(e.offset));
    await broker.append(channel, 't', 1, undefined, { idempotencyKey: 'k' });
    for (let i = 0; i < 5; i++) await broker.append(channel, 't', 1, undefined, { idempotencyKey: 'k' });
    // A fence: once it has arrived, anything a repeat published would have arrived before it.
    await broker.append(channel, 't', 'fence');
    await vi.waitFor(() => expect(seen).toEqual([1, 2]));
    await vi.waitFor(() => expect(heard).toHaveLength(2));
  });

  it('answers a repeat whose event left the log with the first offset, and this call’s data', async () => {
    const broker = await open({ maxEventsPerChannel: 2 });
    const channel = fresh('trimmed');
    const first = await broker.append(channel, 'order', { v: 1 }, undefined, { idempotencyKey: 'k' });
    for (let i = 0; i < 3; i++) await broker.append(channel, 'other', i);
    expect((await broker.info(channel)).oldest).toBe(3);
    const repeat = await broker.append(channel, 'order', { v: 1 }, undefined, { idempotencyKey: 'k' });
    expect(repeat).toEqual({ ...first, data: { v: 1 } });
    expect((await broker.info(channel)).head).toBe(4);
  });

  it('keeps the keys in the channel’s slot, expiring with the window, at most maxEventsPerChannel of them', async () => {
    const broker = await open({ maxEventsPerChannel: 5, idempotencyWindowMs: 60_000 });
    const channel = fresh('bound');
    for (let i = 0; i < 20; i++)
      await broker.append(channel, 't', i, undefined, { idempotencyKey: `key-${i}` });
    const client = await raw();
    const keys = `tandem:{${channel}}:ik`;
    const records = `tandem:{${channel}}:iv`;
    expect(await client.zCard(keys)).toBe(5);
    expect(await client.hLen(records)).toBe(5);
    for (const key of [keys, records]) {
      const ttl = await client.pTTL(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    // The newest are remembered; the oldest, forgotten beyond the cap, append anew.
    expect((await broker.append(channel, 't', 19, undefined, { idempotencyKey: 'key-19' })).offset).toBe(20);
    expect((await broker.append(channel, 't', 0, undefined, { idempotencyKey: 'key-0' })).offset).toBe(21);
  });

  it('forgets every key of a channel once no keyed append came for a whole window', async () => {
    const broker = await open({ idempotencyWindowMs: 200 });
    const channel = fresh('expire');
    await broker.append(channel, 't', 1, undefined, { idempotencyKey: 'k' });
    const client = await raw();
    await expect
      .poll(() => client.exists([`tandem:{${channel}}:ik`, `tandem:{${channel}}:iv`]), { timeout: 10_000 })
      .toBe(0);
    // The log stays: only the keys went.
    expect((await broker.info(channel)).head).toBe(1);
  });
});
