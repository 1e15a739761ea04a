/**
 * A hub dying under its clients, as the Redis and the PostgreSQL tests play it: clients follow
 * the orders channel through a "load balancer", events are published throughout, and the hub is
 * killed mid-stream; every client must end with every event once, in order, and no resync.
 */
import { expect } from 'vitest';
import { type Recording, recordedClient, transportNamed } from '../client/harness';
import { sleep, until } from './wait';

const CHANNEL = 'tenant:acme/orders';
const TYPE = 'order:created';
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** `count` clients recording the orders channel at `url`, fetch and EventSource taking turns. */
export function followOrders(url: string, count: number): Recording[] {
  return range(1, count).map((i) =>
    recordedClient({
      url,
      channels: [CHANNEL],
      transport: transportNamed(i % 2 ? 'fetch' : 'eventsource'),
      eventTypes: [TYPE],
    }),
  );
}

/**
 * Once every client is open, `publish` publishes `{ n }` on the orders channel, pacing itself
 * (5 ms per 4 events) so that the hub dies mid-stream; once every client has 40 events,
 * `failover` moves them (retargets the balancer, kills their hub), publishing goes on for 60
 * events more, and one after them is a fence: once it arrived, so has any duplicate.
 */
export async function expectNoLossThroughFailover(
  clients: Recording[],
  publish: (channel: string, type: string, data: { n: number }) => Promise<unknown>,
  failover: () => Promise<void>,
): Promise<void> {
  expect(await until(() => clients.every((c) => c.client.getState().status === 'open'), 20_000)).toBe(true);
  let published = 0;
  let killed = false;
  const publisher = (async () => {
    for (let after = 0; after < 60; ) {
      await publish(CHANNEL, TYPE, { n: ++published });
      if (killed) after++;
      if (published % 4 === 0) await sleep(5);
    }
  })();
  expect(await until(() => clients.every((c) => c.count() >= 40), 20_000)).toBe(true);
  await failover();
  killed = true;
  await publisher;
  await publish(CHANNEL, TYPE, { n: ++published });
  const total = published;

  expect(await until(() => clients.every((c) => c.count() >= total), 20_000)).toBe(true);
  for (const c of clients) {
    expect(c.violations).toEqual([]);
    expect(c.resyncs).toEqual([]);
    expect(c.events.map((e) => e.offset)).toEqual(range(1, total));
    expect(c.events.map((e) => (e.data as { n: number }).n)).toEqual(range(1, total));
  }
}
