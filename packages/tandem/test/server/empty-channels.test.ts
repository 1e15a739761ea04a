import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PollResponse } from '../../src/protocol';
import { type RedisBroker, redisBroker } from '../../src/redis';
import { type Broker, createHub, type MemoryBroker, memoryBroker } from '../../src/server';
import type { HubServer } from '../helpers/hub-server';
import { type RedisServer, startRedis } from '../helpers/redis-server';
import { closedAfterEach } from './closed-after-each';
import { openRaw } from './sse-reader';

const { serve, streams } = closedAfterEach();

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

async function pollJson(url: string): Promise<PollResponse<{ n: number }>> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return (await res.json()) as PollResponse<{ n: number }>;
}

/** Reads many never-published channels every way a client can; returns a cursor of the last poll. */
async function readEmptyChannels(url: string, prefix: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const names = Array.from({ length: 8 }, (_, k) => `${prefix}-${i}-${k}`).join(',');
    const first = await pollJson(`${url}/poll?channels=${names}`);
    // With the cursor of the first answer, and as a long poll that times out.
    await pollJson(`${url}/poll?channels=${names}&cursor=${encodeURIComponent(first.cursor)}`);
    if (i % 10 === 0)
      await pollJson(`${url}/poll?channels=${names}&cursor=${encodeURIComponent(first.cursor)}&wait=0.05`);
    if (i % 5 === 0) {
      const stream = await openRaw(`${url}/stream?channels=${names}`);
      await stream.next((e) => e.type === 'tandem:hello');
      stream.close();
      await stream.ended;
    }
  }
}

/** The events a client that saw `channel` empty gets once it is published to, stream and poll. */
async function firstEventsAfterEmpty(served: HubServer, channel: string) {
  const url = served.url;
  const seen = await pollJson(`${url}/poll?channels=${channel}`);
  const stream = await openRaw(`${url}/stream?channels=${channel}`);
  streams.push(stream);
  await stream.next((e) => e.type === 'tandem:hello');
  await served.hub.publish(channel, 'tick', { n: 1 });
  await served.hub.publish(channel, 'tick', { n: 2 });
  await stream.next(() => stream.appEvents().length === 2);
  const polled = await pollJson(`${url}/poll?channels=${channel}&cursor=${encodeURIComponent(seen.cursor)}`);
  return {
    streamed: stream.appEvents().map((e) => e.data),
    streamResyncs: stream.events.filter((e) => e.type === 'tandem:resync').length,
    polled: polled.events.map((e) => e.data),
    pollResync: polled.resync,
    recovered: polled.channels[channel]?.recovered,
  };
}

async function waitForIdle(served: HubServer): Promise<void> {
  await expect.poll(() => served.hub.stats().connections, { timeout: 5000 }).toBe(0);
  await expect.poll(() => served.hub.stats().channels, { timeout: 5000 }).toBe(0);
}

describe('reading a channel that has no log', () => {
  it('memory broker: allocates nothing that outlives the request or stream', async () => {
    const broker: MemoryBroker = memoryBroker();
    const served = await serve(createHub({ broker }));
    await readEmptyChannels(served.url, 'nobody');
    await waitForIdle(served);
    expect(broker.stats()).toEqual({ channels: 0, events: 0, listeners: 0 });

    // A client that saw a channel empty gets its first events, by stream and by poll, with no resync.
    expect(await firstEventsAfterEmpty(served, 'fresh')).toEqual({
      streamed: [{ n: 1 }, { n: 2 }],
      streamResyncs: 0,
      polled: [{ n: 1 }, { n: 2 }],
      pollResync: null,
      recovered: true,
    });
  });

  it('Redis broker: creates no key', async () => {
    const prefix = `empty${Date.now().toString(36)}`;
    const broker: RedisBroker = redisBroker({ url: redis.url, prefix });
    await broker.ready();
    const served = await serve(createHub({ broker: broker as Broker }));
    const raw = createClient({ url: redis.url });
    await raw.connect();
    try {
      // Only what the broker wrote on connecting (the dataset's life marker), never a channel's.
      const before = await raw.keys(`${prefix}:*`);
      expect(before).toEqual([`${prefix}:life`]);
      await readEmptyChannels(served.url, 'nobody');
      await waitForIdle(served);
      expect(await raw.keys(`${prefix}:*`)).toEqual(before);
      expect(broker.stats()).toMatchObject({ channels: 0, listeners: 0 });

      expect(await firstEventsAfterEmpty(served, 'fresh')).toEqual({
        streamed: [{ n: 1 }, { n: 2 }],
        streamResyncs: 0,
        polled: [{ n: 1 }, { n: 2 }],
        pollResync: null,
        recovered: true,
      });
    } finally {
      await served.close();
      await broker.close();
      await raw.close();
    }
  });
});
