import { afterEach, describe, expect, it } from 'vitest';
import type { FetchLike } from '../../src/client';
import { until } from '../helpers/wait';
import { type Rig, recordedClient, startRig } from './harness';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe('a capped poll answer', () => {
  it('is followed by polls along the cursor until the server has nothing more, not by the schedule', async () => {
    // Streams refused (429), polls capped at 5 events per channel, and a schedule so slow that
    // only the follow-ups can bring the backlog in time.
    rig = await startRig({ maxConnections: 0, retryAfterSeconds: 60, maxPollEvents: 5 });
    let polls = 0;
    const countingFetch: FetchLike = (url, init) => {
      if (url.includes('/poll?')) polls++;
      return fetch(url, init);
    };
    const rec = recordedClient({
      url: rig.url,
      channels: ['more:a'],
      fetch: countingFetch,
      poll: { closedIntervalMs: 60_000, openIntervalMs: 60_000, jitterMs: 0 },
    });
    // The client's first poll gives it its position at the head.
    await rec.client.pollNow();
    const before = polls;
    for (let i = 1; i <= 23; i++) await rig.server.hub.publish('more:a', 'tick', { i });

    await rec.client.pollNow();
    expect(await until(() => rec.count() === 23, 10_000)).toBe(true);
    expect(rec.events.map((e) => e.offset)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
    // 23 events at 5 per answer: five answers, the last one saying nothing more.
    expect(polls - before).toBe(5);
    expect(rec.violations).toEqual([]);
    expect(rec.resyncs).toEqual([]);
    rec.client.close();
  }, 30_000);
});
