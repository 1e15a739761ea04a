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
});
