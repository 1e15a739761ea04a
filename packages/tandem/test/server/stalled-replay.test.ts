import { describe, expect, it } from 'vitest';
import type { PollResponse } from '../../src/protocol';
import { createHub, memoryBroker } from '../../src/server';
import type { HubServer } from '../helpers/hub-server';
import { closedAfterEach } from './closed-after-each';
import { openRaw } from './sse-reader';

const { serve, streams } = closedAfterEach();

/** A hub with `count` events of 1 KB on `feed`, and a cursor from before them. */
async function seeded(count: number): Promise<{ served: HubServer; cursor: string }> {
  const hub = createHub({
    broker: memoryBroker({ maxEventsPerChannel: count }),
    heartbeatMs: 200,
    maxBufferedBytes: 256 * 1024,
  });
  const served = await serve(hub);
  const start = (await (await fetch(`${served.url}/poll?channels=feed`)).json()) as PollResponse;
  const pad = 'x'.repeat(1000);
  for (let n = 1; n <= count; n++) await hub.publish('feed', 'blob', { n, pad });
  return { served, cursor: start.cursor };
}

describe('a stream replaying a long backlog', () => {
  // 24 MB: far more than loopback's socket buffers hold, so the replay has to wait for its reader.
  const COUNT = 24_000;

  it('is cut when its client stops reading during the replay, and frees what it held', async () => {
    const { served, cursor } = await seeded(COUNT);
    const stream = await openRaw(
      `${served.url}/stream?channels=feed`,
      { 'last-event-id': cursor },
      { keep: false },
    );
    streams.push(stream);
    await stream.next((e) => e.type === 'blob');
    stream.pause();
    // Cut as a slow consumer within a few heartbeats of making no progress.
    await expect.poll(() => served.hub.stats().connections, { timeout: 10_000, interval: 50 }).toBe(0);
    // Reading again, the client finds its response cut short.
    stream.resume();
    await stream.ended;
    expect(served.hub.stats()).toMatchObject({ connections: 0, responses: 0 });
  });

  it('is not cut while its client reads, however slowly', async () => {
    const { served, cursor } = await seeded(COUNT);
    const stream = await openRaw(
      `${served.url}/stream?channels=feed`,
      { 'last-event-id': cursor },
      { keep: false },
    );
    streams.push(stream);
    // Reads in bursts: 60 ms of every 150 ms, slower than the server writes.
    let paused = false;
    const toggler = setInterval(() => {
      paused = !paused;
      if (paused) stream.pause();
      else stream.resume();
    }, 75);
    try {
      await stream.next(
        () => stream.last?.type === 'blob' && JSON.parse(stream.last.data).data.n === COUNT,
        60_000,
      );
    } finally {
      clearInterval(toggler);
    }
    expect(served.hub.stats().connections).toBe(1);
  });

  it('lets many replays take turns, each getting its whole backlog in order, past stalled ones', async () => {
    const { served, cursor } = await seeded(3000);
    const readers = await Promise.all(
      Array.from({ length: 12 }, () =>
        openRaw(`${served.url}/stream?channels=feed`, { 'last-event-id': cursor }),
      ),
    );
    streams.push(...readers);
    // Two of them stop reading at once: they must not hold up the others' turns.
    const [stalledA, stalledB] = readers;
    for (const stalled of [stalledA!, stalledB!]) {
      await stalled.next((e) => e.type === 'blob');
      stalled.pause();
    }
    const orderly = readers.slice(2);
    await Promise.all(
      orderly.map((s) => s.next((e) => e.type === 'blob' && JSON.parse(e.data).data.n === 3000, 60_000)),
    );
    for (const s of orderly) {
      expect(s.appEvents().map((e) => e.offset)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    }
  });
});
