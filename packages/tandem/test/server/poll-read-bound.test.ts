import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, jsonOf } from '../../src/broker';
import type { PollResponse } from '../../src/protocol';
import { redisBroker } from '../../src/redis';
import { createHub, memoryBroker } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { type RedisServer, startRedis } from '../helpers/redis-server';

/** A real broker, counting the data bytes and events its reads hand back. */
function counting(broker: Broker) {
  const counts = { bytes: 0, events: 0, reads: 0 };
  const wrapped: Broker = {
    append: (...args) => broker.append(...args),
    info: (channel) => broker.info(channel),
    async read(channel, after, limit, maxBytes) {
      const result = await broker.read(channel, after, limit, maxBytes);
      counts.reads++;
      counts.events += result.events.length;
      for (const event of result.events) counts.bytes += Buffer.byteLength(jsonOf(event.data));
      return result;
    },
    continues: broker.continues ? (empty, log) => broker.continues!(empty, log) : undefined,
    subscribe: (channel, listener) => broker.subscribe(channel, listener),
    close: () => broker.close(),
  };
  return { broker: wrapped, counts };
}

/** The cursor of a poll without one, every channel moved back to offset 0 of its epoch. */
async function cursorAtZero(url: string): Promise<string> {
  const body = (await (await fetch(url)).json()) as PollResponse;
  return body.cursor
    .split('~')
    .map((part, i) => (i === 0 ? part : part.replace(/\.[0-9a-z]+$/, '.0')))
    .join('~');
}

const pad = 'x'.repeat(1000);
const range = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

let redis: RedisServer | undefined;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const brokers: Record<string, () => Broker> = {
  memory: () => memoryBroker(),
  redis: () => redisBroker({ url: redis!.url, prefix: `bound${Math.random().toString(36).slice(2, 8)}` }),
};

describe.each(Object.keys(brokers))('a poll on the %s broker', (kind) => {
  let served: HubServer | null = null;
  let inner: Broker | null = null;
  afterEach(async () => {
    await served?.close();
    await inner?.close();
    served = null;
    inner = null;
  });

  async function serve(maxPollBytes: number) {
    inner = brokers[kind]!();
    if ('ready' in inner) await (inner as ReturnType<typeof redisBroker>).ready();
    const { broker, counts } = counting(inner);
    served = await startHubServer(createHub({ broker, maxPollBytes }));
    return { hub: served.hub, url: served.url, counts };
  }

  it('reads about maxPollBytes from the broker over 64 channels × 1 000 events × 1 KB, not all of them', async () => {
    const maxPollBytes = 1_048_576;
    const { hub, url, counts } = await serve(maxPollBytes);
    const channels = range(64, 'amp');
    // A channel at a time, its publishes concurrent: the Redis broker batches them into few scripts.
    for (const channel of channels) {
      await Promise.all(Array.from({ length: 1000 }, (_, n) => hub.publish(channel, 'blob', { n, pad })));
    }
    const pollUrl = `${url}/poll?channels=${channels.join(',')}`;
    const cursor = await cursorAtZero(pollUrl);

    for (let i = 0; i < 3; i++) {
      counts.bytes = 0;
      counts.events = 0;
      const res = await fetch(`${pollUrl}&cursor=${encodeURIComponent(cursor)}`);
      const body = (await res.json()) as PollResponse;
      // The broker handed back about the budget, plus at most one event per channel: 64 MB
      // (64 000 events) before the read itself was bounded.
      expect(counts.bytes).toBeLessThanOrEqual(maxPollBytes + 64 * 1100);
      expect(counts.events).toBeLessThanOrEqual(1100);
      // And the answer still carries nearly the budget: the bound did not starve it.
      expect(body.events.length).toBeGreaterThan(800);
      expect(body.more).toBe(true);
    }
  }, 120_000);

  it('gives a channel with a backlog among 63 quiet ones nearly the whole budget per answer, losing nothing', async () => {
    const maxPollBytes = 64 * 1024;
    const { hub, url, counts } = await serve(maxPollBytes);
    const channels = range(64, 'one');
    const pollUrl = `${url}/poll?channels=${channels.join(',')}`;
    let cursor = ((await (await fetch(pollUrl)).json()) as PollResponse).cursor;
    await Promise.all(Array.from({ length: 300 }, (_, n) => hub.publish('one0', 'blob', { n, pad })));
    await hub.publish('one9', 'blob', { n: 0, pad });

    const seen: string[] = [];
    const perAnswer: number[] = [];
    for (let i = 0; i < 50; i++) {
      counts.bytes = 0;
      const body = (await (
        await fetch(`${pollUrl}&cursor=${encodeURIComponent(cursor)}`)
      ).json()) as PollResponse<{ n: number }>;
      for (const event of body.events) seen.push(`${event.channel}#${event.data.n}`);
      perAnswer.push(body.events.length);
      expect(counts.bytes).toBeLessThanOrEqual(maxPollBytes + 64 * 1100);
      cursor = body.cursor;
      if (!body.more) break;
    }
    // 301 events of about 1 KB at 64 KB an answer: five or six answers, not one per 1/64 share.
    expect(perAnswer.length).toBeLessThanOrEqual(7);
    expect(seen.filter((s) => s.startsWith('one0#'))).toEqual(
      Array.from({ length: 300 }, (_, n) => `one0#${n}`),
    );
    expect(seen).toContain('one9#0');
    expect(seen).toHaveLength(301);
  }, 60_000);
});

describe.each(Object.keys(brokers))('Broker.read with maxBytes on the %s broker', (kind) => {
  let broker: Broker | null = null;
  afterEach(async () => {
    await broker?.close();
    broker = null;
  });

  it('stops once the data read reaches the bound, and always returns at least one event', async () => {
    broker = brokers[kind]!();
    for (let n = 10; n < 50; n++) await broker.append('c', 'blob', { n, pad });
    const sizes = (events: { data: unknown }[]) => events.map((e) => Buffer.byteLength(jsonOf(e.data)));
    const one = Buffer.byteLength(JSON.stringify({ n: 10, pad }));

    const bounded = await broker.read('c', 0, undefined, 5 * one);
    expect(bounded.events.map((e) => e.offset)).toEqual([1, 2, 3, 4, 5]);
    expect(bounded.head).toBe(40);

    // A bound smaller than one event still moves on by one.
    const tiny = await broker.read('c', 7, undefined, 1);
    expect(tiny.events.map((e) => e.offset)).toEqual([8]);
    const zero = await broker.read('c', 7, undefined, 0);
    expect(zero.events.map((e) => e.offset)).toEqual([8]);

    // The event limit still holds under a larger byte bound, and a bound past the end reads it all.
    expect((await broker.read('c', 10, 3, 100 * one)).events.map((e) => e.offset)).toEqual([11, 12, 13]);
    const rest = await broker.read('c', 20, undefined, 1_000_000);
    expect(rest.events.map((e) => e.offset)).toEqual(Array.from({ length: 20 }, (_, i) => 21 + i));
    expect(sizes(rest.events).every((s) => s >= one - 2)).toBe(true);

    // Multi-byte data counts in UTF-8 bytes: 3 bytes per '€'.
    await broker.append('euro', 'blob', { s: '€'.repeat(1000) });
    await broker.append('euro', 'blob', { s: '€'.repeat(1000) });
    expect((await broker.read('euro', 0, undefined, 2000)).events).toHaveLength(1);
    expect((await broker.read('euro', 0, undefined, 3010)).events).toHaveLength(2);
  });

  it('reads nothing past the head and nothing of a channel with no log', async () => {
    broker = brokers[kind]!();
    await broker.append('d', 'blob', { n: 1 });
    expect((await broker.read('d', 1, undefined, 10)).events).toEqual([]);
    expect((await broker.read('nobody', 0, undefined, 10)).events).toEqual([]);
  });
});
