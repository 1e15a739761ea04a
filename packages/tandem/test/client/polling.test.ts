import { afterEach, describe, expect, it } from 'vitest';
import type { FetchLike } from '../../src/client';
import { sleep, until } from '../helpers/wait';
import { type Rig, recordedClient, startRig } from './harness';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe('while no stream can be opened', () => {
  it('events still arrive, through polling alone, once each and in order', async () => {
    // A hub at capacity: every /stream answers 429 (Retry-After), /poll still answers.
    rig = await startRig({ maxConnections: 0, retryAfterSeconds: 1 });
    const pollLatencies: number[] = [];
    const timedFetch: FetchLike = async (url, init) => {
      const started = Date.now();
      const response = await fetch(url, init);
      if (url.includes('/poll?')) pollLatencies.push(Date.now() - started);
      return response;
    };
    const rec = recordedClient({ url: rig.url, channels: ['poll:a', 'poll:b'], fetch: timedFetch });
    expect(await until(() => rec.client.getState().lastError?.code === 'too_many_connections', 5_000)).toBe(
      true,
    );
    // The first poll gives the client its positions.
    expect(await until(() => pollLatencies.length >= 1, 5_000)).toBe(true);

    const published: Array<{ i: number; at: number }> = [];
    for (let i = 0; i < 8; i++) {
      // Spread over several poll periods, landing at different points of the poll cycle.
      await sleep(300 + ((i * 577) % 1_100));
      await rig.server.hub.publish(i % 2 ? 'poll:a' : 'poll:b', 'tick', { i });
      published.push({ i, at: Date.now() });
    }
    expect(await until(() => rec.count() === published.length, 8_000)).toBe(true);

    const slowestPoll = Math.max(...pollLatencies);
    const latencies = published.map(({ i, at }) => {
      const got = rec.events.find((e) => (e.data as { i: number }).i === i)!;
      expect(got.source).toBe('poll');
      return got.at - at;
    });
    console.info(
      `poll fallback: delivery latencies ${latencies.join(',')} ms; slowest poll ${slowestPoll} ms`,
    );
    // How fast is not asserted here (the poll cadence is tested with an injected clock in
    // poll-schedule.test.ts); the latencies are logged above.
    expect(rec.client.getState()).toMatchObject({ status: 'reconnecting', polling: true });
    expect(rec.violations).toEqual([]);
    expect(rec.resyncs).toEqual([]);
    rec.client.close();
  }, 30_000);
});
