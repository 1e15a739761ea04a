import { createClient } from 'redis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newEpoch } from '../../src/protocol';
import { type RedisBroker, redisBroker } from '../../src/redis';
import { newLife } from '../../src/redis/life';
import { channelKeys } from '../../src/redis/runner';
import { APPEND_SCRIPT } from '../../src/redis/scripts';
import { createHub } from '../../src/server';
import { type Recording, recordedClient } from '../client/harness';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { type RedisServer, startRedis } from '../helpers/redis-server';

/**
 * Appends an event to a channel's log with the broker's own script, but notifies a pub/sub
 * channel nobody follows: for every hub, the notification is silently lost.
 */
async function appendSilently(url: string, channel: string, data: unknown): Promise<number> {
  const raw = createClient({ url });
  await raw.connect();
  try {
    const reply = (await raw.sendCommand([
      'EVAL',
      APPEND_SCRIPT,
      '5',
      ...channelKeys('tandem', channel),
      newEpoch(),
      '300000',
      '0',
      '10000',
      'nobody-listens',
      '300000',
      newLife(),
      't',
      JSON.stringify(data),
      '',
    ])) as [string, number, number];
    return Number(reply[1]);
  } finally {
    await raw.close();
  }
}

describe('the head check of the Redis broker', () => {
  let redis: RedisServer | undefined;
  let broker: RedisBroker | undefined;
  let server: HubServer | undefined;
  const clients: Recording[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.client.close();
    await server?.close();
    await broker?.close();
    await redis?.stop();
    redis = broker = server = undefined;
  });

  async function start(headCheckMs: number): Promise<{ polls: () => number }> {
    redis = await startRedis();
    broker = redisBroker({ url: redis.url, headCheckMs });
    await broker.ready();
    server = await startHubServer(createHub({ broker, heartbeatMs: 1000 }));
    let polls = 0;
    const fetchCounting: typeof fetch = (input, init) => {
      if (String(input).includes('/poll')) polls++;
      return fetch(input, init);
    };
    for (const channels of [['a'], ['a', 'b'], ['b']]) {
      clients.push(recordedClient({ url: `${server.url}`, channels, fetch: fetchCounting }));
    }
    for (const c of clients) c.client.start();
    await vi.waitFor(() => expect(clients.every((c) => c.client.getState().status === 'open')).toBe(true));
    return { polls: () => polls };
  }

  it('finds events whose notifications were lost and delivers them through the open streams', async () => {
    const { polls } = await start(200);
    await server!.hub.publish('a', 't', 1);
    await vi.waitFor(() => expect(clients[0]!.count()).toBe(1));
    // Lost notifications: two on `a`, three on `b` (for `b`, as if the subscription were gone).
    for (const [channel, n] of [
      ['a', 2],
      ['a', 3],
      ['b', 1],
      ['b', 2],
      ['b', 3],
    ] as const) {
      expect(await appendSilently(redis!.url, channel, n)).toBe(n);
    }
    await vi.waitFor(() => expect(clients.map((c) => c.count())).toEqual([3, 6, 3]), { timeout: 10_000 });
    for (const c of clients) {
      expect(c.violations).toEqual([]);
      expect(c.events.every((e) => e.source === 'stream')).toBe(true);
      expect(c.client.getState()).toMatchObject({ status: 'open', attempt: 0 });
    }
    expect(clients[1]!.events.map((e) => `${e.channel}${e.data}`).sort()).toEqual([
      'a1',
      'a2',
      'a3',
      'b1',
      'b2',
      'b3',
    ]);
    // At least one repair per channel; more when a check fell between two of the appends.
    expect(broker!.stats().headRepairs).toBeGreaterThanOrEqual(2);
    expect(polls()).toBe(0);
  });

  it('repairs nothing while no notification is lost', async () => {
    await start(100);
    let published = 0;
    // Publishes across many checks; every event is notified, some just before a check.
    while (broker!.stats().headChecks < 15) {
      await server!.hub.publish(published % 2 ? 'a' : 'b', 't', ++published);
      await new Promise((r) => setTimeout(r, 5));
    }
    const a = Math.ceil(published / 2);
    await vi.waitFor(() => expect(clients[1]!.count()).toBe(published));
    expect(clients.map((c) => c.count())).toEqual([published - a, published, a]);
    expect(broker!.stats().headRepairs).toBe(0);
  });
});
