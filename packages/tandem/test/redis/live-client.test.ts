import { afterEach, describe, expect, it } from 'vitest';
import { type Recording, recordedClient, sleep, transportNamed, until } from '../client/harness';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy';
import { type RedisServer, startRedis } from '../helpers/redis-server';
import { type ChildHub, type RedisHub, startChildHub, startRedisHub } from './cluster-helpers';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('live clients on a Redis-backed cluster', () => {
  let redis: RedisServer | undefined;
  let proxy: FaultProxy | undefined;
  let hubA: ChildHub | undefined;
  let hubB: RedisHub | undefined;
  const clients: Recording[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.client.close();
    await proxy?.close();
    await hubA?.kill9();
    await hubB?.close();
    await redis?.stop();
    proxy = hubA = hubB = redis = undefined;
  });

  it('follow a load balancer from a killed hub to a live one with every event once, in order', async () => {
    redis = await startRedis();
    hubA = await startChildHub(redis.url);
    hubB = await startRedisHub(redis.url);
    // The "load balancer": every client reaches hub A through it until A dies.
    proxy = await startFaultProxy(Number(new URL(hubA.url).port));
    for (const transport of ['fetch', 'eventsource', 'fetch', 'eventsource'] as const) {
      clients.push(
        recordedClient({
          url: proxy.url('/live'),
          channels: ['tenant:acme/orders'],
          transport: transportNamed(transport),
          eventTypes: ['order:created'],
        }),
      );
    }
    expect(await until(() => clients.every((c) => c.client.getState().status === 'open'), 10_000)).toBe(true);

    // Publishes until 60 events after the kill, pacing itself (5 ms per 4 events) so that the
    // hub dies mid-stream.
    let published = 0;
    let killed = false;
    const publisher = (async () => {
      for (let after = 0; after < 60; ) {
        await hubB!.hub.publish('tenant:acme/orders', 'order:created', { n: ++published });
        if (killed) after++;
        if (published % 4 === 0) await sleep(5);
      }
    })();
    expect(await until(() => clients.every((c) => c.count() >= 40), 10_000)).toBe(true);
    proxy.retarget(Number(new URL(hubB.url).port));
    await hubA.kill9();
    killed = true;
    await publisher;
    // A fence: once an event published after all others has arrived, so has any duplicate.
    await hubB.hub.publish('tenant:acme/orders', 'order:created', { n: ++published });
    const total = published;

    expect(await until(() => clients.every((c) => c.count() >= total), 20_000)).toBe(true);
    for (const c of clients) {
      expect(c.violations).toEqual([]);
      expect(c.resyncs).toEqual([]);
      expect(c.events.map((e) => e.offset)).toEqual(range(1, total));
      expect(c.events.map((e) => (e.data as { n: number }).n)).toEqual(range(1, total));
    }
  });
});
