import { afterEach, describe, expect, it } from 'vitest';
import type { PollResponse } from '../../src/protocol';
import { createHub, memoryBroker } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';

let served: HubServer | null = null;
afterEach(async () => {
  await served?.close();
  served = null;
});

async function poll(url: string, cursor: string): Promise<PollResponse<{ n: number }>> {
  const res = await fetch(`${url}/poll?channels=orders,stock&cursor=${encodeURIComponent(cursor)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as PollResponse<{ n: number }>;
}

describe('poll answer size', () => {
  it('caps each channel at maxPollEvents and says more, so following the cursor loses nothing', async () => {
    served = await startHubServer(createHub({ broker: memoryBroker(), maxPollEvents: 3 }));
    const first = await poll(served.url, '');
    // Without a cursor the poll starts at the head, like a stream; later polls carry the cursor.
    expect(first.resync).toBeNull();
    for (let n = 1; n <= 7; n++) await served.hub.publish('orders', 'order', { n });
    await served.hub.publish('stock', 'stock', { n: 1 });

    const seen: string[] = [];
    let cursor = first.cursor;
    const answers: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const body = await poll(served.url, cursor);
      for (const event of body.events) seen.push(`${event.channel}#${event.offset}`);
      answers.push(body.more);
      cursor = body.cursor;
      if (!body.more) break;
    }
    expect(answers).toEqual([true, true, false]);
    expect(seen).toEqual([
      'orders#1',
      'orders#2',
      'orders#3',
      'stock#1',
      'orders#4',
      'orders#5',
      'orders#6',
      'orders#7',
    ]);
  });

  it('caps the body at maxPollBytes and says more, so following the cursor loses nothing', async () => {
    const maxPollBytes = 64 * 1024;
    served = await startHubServer(createHub({ broker: memoryBroker(), maxPollBytes }));
    const channels = Array.from({ length: 8 }, (_, i) => `c${i}`);
    const url = `${served.url}/poll?channels=${channels.join(',')}`;
    const first = (await (await fetch(url)).json()) as PollResponse;
    // 8 channels × 100 events of 1 KB: 800 KB retained, twelve times the cap.
    for (const channel of channels) {
      for (let n = 1; n <= 100; n++) await served.hub.publish(channel, 'blob', { n, pad: 'x'.repeat(1000) });
    }
    let cursor = first.cursor;
    const sizes: number[] = [];
    const seen = new Map<string, number[]>(channels.map((c) => [c, []]));
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${url}&cursor=${encodeURIComponent(cursor)}`);
      const text = await res.text();
      sizes.push(Buffer.byteLength(text));
      const body = JSON.parse(text) as PollResponse<{ n: number }>;
      for (const event of body.events) seen.get(event.channel)!.push(event.data.n);
      cursor = body.cursor;
      if (!body.more) break;
    }
    // Every answer within the cap (plus at most the one event that crossed it).
    expect(Math.max(...sizes)).toBeLessThanOrEqual(maxPollBytes + 1200);
    expect(sizes.length).toBeGreaterThan(10);
    for (const channel of channels) {
      expect(seen.get(channel)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    }
  });

  it('sends an event larger than maxPollBytes on its own rather than never', async () => {
    served = await startHubServer(createHub({ broker: memoryBroker(), maxPollBytes: 1024 }));
    const first = await poll(served.url, '');
    await served.hub.publish('orders', 'order', { n: 1, pad: 'x'.repeat(4000) });
    await served.hub.publish('orders', 'order', { n: 2, pad: 'x'.repeat(4000) });
    const one = await poll(served.url, first.cursor);
    expect(one.events.map((e) => e.data.n)).toEqual([1]);
    expect(one.more).toBe(true);
    const two = await poll(served.url, one.cursor);
    expect(two.events.map((e) => e.data.n)).toEqual([2]);
    expect(two.more).toBe(false);
  });
});
