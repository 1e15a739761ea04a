import { describe, expect, it } from 'vitest';
import { type PollResponse, TandemError } from '../../src/protocol';
import { createHub, HUB_DEFAULTS } from '../../src/server';
import { closedAfterEach } from './closed-after-each';
import { openRaw } from './sse-reader';

const { serve, streams } = closedAfterEach();

async function rejection(promise: Promise<unknown>): Promise<TandemError> {
  try {
    await promise;
  } catch (error) {
    return error as TandemError;
  }
  throw new Error('expected a rejection');
}

describe('publish size limit', () => {
  it('refuses an 8 MB event with the defaults, as payload_too_large (413), and keeps serving', async () => {
    const served = await serve(createHub());
    const big = { blob: 'x'.repeat(8 * 1024 * 1024) };
    const error = await rejection(served.hub.publish('feed', 'blob', big));
    expect(error).toBeInstanceOf(TandemError);
    expect(error).toMatchObject({ code: 'payload_too_large', status: 413 });
    expect(error.message).toContain(String(HUB_DEFAULTS.maxEventBytes));
    // The hub still takes events that fit.
    await expect(served.hub.publish('feed', 'blob', { blob: 'small' })).resolves.toMatchObject({ offset: 1 });
  });

  it('counts the UTF-8 bytes of the JSON, not its characters', async () => {
    const served = await serve(createHub({ maxEventBytes: 1000 }));
    // 400 characters, 1 200 bytes of UTF-8.
    const error = await rejection(served.hub.publish('feed', 'text', '€'.repeat(400)));
    expect(error).toMatchObject({ code: 'payload_too_large' });
    await expect(served.hub.publish('feed', 'text', '€'.repeat(300))).resolves.toMatchObject({ offset: 1 });
  });

  it('refuses options where an event that fits the limit could exceed a stream’s buffer', () => {
    expect(() => createHub({ maxEventBytes: 2 * 1024 * 1024 })).toThrow(/maxEventBytes.*maxBufferedBytes/);
    expect(() => createHub({ maxBufferedBytes: 65_536, maxEventBytes: 65_536 })).toThrow(
      /maxEventBytes.*maxBufferedBytes/,
    );
    // Without an explicit maxEventBytes, a small buffer lowers the limit instead.
    expect(() => createHub({ maxBufferedBytes: 65_536 })).not.toThrow();
  });

  it('delivers events at the largest size that fits, live and replayed, without cutting the stream', async () => {
    const served = await serve(createHub({ maxBufferedBytes: 65_536 }));
    const start = (await (await fetch(`${served.url}/poll?channels=feed`)).json()) as PollResponse;
    const live = await openRaw(`${served.url}/stream?channels=feed`);
    streams.push(live);
    await live.next((e) => e.type === 'tandem:hello');

    // Find the limit the hub derived: the largest string that is accepted.
    let low = 1;
    let high = 65_536;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      const ok = await served.hub.publish('probe', 'x', 'x'.repeat(mid)).then(
        () => true,
        () => false,
      );
      if (ok) low = mid;
      else high = mid - 1;
    }
    expect(low).toBeGreaterThan(1024);
    for (let i = 0; i < 20; i++) await served.hub.publish('feed', 'blob', 'y'.repeat(low));
    await live.next(() => live.appEvents().length === 20, 10_000);

    const replay = await openRaw(`${served.url}/stream?channels=feed`, { 'last-event-id': start.cursor });
    streams.push(replay);
    await replay.next(() => replay.appEvents().length === 20, 10_000);
    // Neither stream was cut as a slow consumer.
    expect(served.hub.stats().connections).toBe(2);
  });
});
