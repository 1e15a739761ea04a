import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveQueryScheduler } from '../../src/client';
import { type FakeEnv, fakeEnv } from '../helpers/fake-env';

/** A fetcher whose calls the test resolves by hand, recording overlap and aborts. */
function controllableFetcher() {
  const calls: { signal: AbortSignal; resolve: (value: number) => void; reject: (error: unknown) => void }[] =
    [];
  let running = 0;
  let maxConcurrent = 0;
  const fetcher = (signal: AbortSignal) =>
    new Promise<number>((resolve, reject) => {
      running++;
      maxConcurrent = Math.max(maxConcurrent, running);
      const done = () => {
        running--;
      };
      calls.push({
        signal,
        resolve: (value) => {
          done();
          resolve(value);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
    });
  return {
    fetcher,
    calls,
    get maxConcurrent() {
      return maxConcurrent;
    },
    last() {
      const call = calls.at(-1);
      if (!call) throw new Error('no fetch yet');
      return call;
    },
  };
}

/** The scheduler's clock and timers: the tests' one fake environment, moved by hand. */
let env: FakeEnv;
const seams = () => ({ timers: env.timers, now: env.now });

const flush = () => env.advance(0);

describe('LiveQueryScheduler', () => {
  beforeEach(() => {
    env = fakeEnv();
  });

  it('loads once on start and reports data', async () => {
    const f = controllableFetcher();
    const scheduler = new LiveQueryScheduler({ fetcher: f.fetcher, ...seams() });
    expect(scheduler.getState()).toMatchObject({ status: 'pending', isFetching: false });
    scheduler.start();
    await flush();
    expect(f.calls).toHaveLength(1);
    expect(scheduler.getState().isFetching).toBe(true);
    f.last().resolve(42);
    await flush();
    expect(scheduler.getState()).toMatchObject({
      status: 'success',
      data: 42,
      isFetching: false,
      error: null,
    });
    scheduler.stop();
  });

  it('refetches once for a burst of invalidations', async () => {
    const f = controllableFetcher();
    const scheduler = new LiveQueryScheduler({ fetcher: f.fetcher, ...seams(), coalesceMs: 25 });
    scheduler.start();
    await flush();
    f.last().resolve(1);
    await flush();
    for (let i = 0; i < 20; i++) scheduler.invalidate();
    await env.advance(10);
    for (let i = 0; i < 20; i++) scheduler.invalidate();
    await env.advance(30);
    expect(f.calls).toHaveLength(2);
    f.last().resolve(2);
    await flush();
    await env.advance(1_000);
    expect(f.calls).toHaveLength(2);
    expect(scheduler.getState().data).toBe(2);
    scheduler.stop();
  });

  it('never overlaps fetches: triggers during a fetch cause exactly one follow-up', async () => {
    const f = controllableFetcher();
    const scheduler = new LiveQueryScheduler({ fetcher: f.fetcher, ...seams() });
    scheduler.start();
    await flush();
    for (let i = 0; i < 5; i++) {
      scheduler.invalidate();
      scheduler.refetch();
    }
    await env.advance(100);
    expect(f.calls).toHaveLength(1);
    f.last().resolve(1);
    await flush();
    expect(f.calls).toHaveLength(2);
    f.last().resolve(2);
    await env.advance(100);
    expect(f.calls).toHaveLength(2);
    expect(f.maxConcurrent).toBe(1);
    scheduler.stop();
  });

  it('refetches on the adaptive interval: 10 s connected, 3 s disconnected', async () => {
    const f = controllableFetcher();
    const scheduler = new LiveQueryScheduler({ fetcher: f.fetcher, ...seams() });
    scheduler.setConnected(true);
    scheduler.start();
    await flush();
    f.last().resolve(0);
    await flush();

    await env.advance(9_999);
    expect(f.calls).toHaveLength(1);
    await env.advance(1);
    expect(f.calls).toHaveLength(2);
    f.last().resolve(1);
    await flush();

    // The stream drops 1 s after the last fetch: the next one comes 3 s after that fetch.
    await env.advance(1_000);
    scheduler.setConnected(false);
    await env.advance(1_999);
    expect(f.calls).toHaveLength(2);
    await env.advance(1);
    expect(f.calls).toHaveLength(3);
    f.last().resolve(2);
    await flush();
    await env.advance(3_000);
    expect(f.calls).toHaveLength(4);
    f.last().resolve(3);
    await flush();

    // Back online: the long interval again, counted from the last fetch.
    scheduler.setConnected(true);
    await env.advance(9_999);
    expect(f.calls).toHaveLength(4);
    await env.advance(1);
    expect(f.calls).toHaveLength(5);
    scheduler.stop();
  });

  it('keeps the data and the schedule when a fetch fails', async () => {
    const f = controllableFetcher();
    const scheduler = new LiveQueryScheduler({
      fetcher: f.fetcher,
      ...seams(),
      disconnectedIntervalMs: 3_000,
    });
    scheduler.start();
    await flush();
    f.last().resolve(7);
    await flush();
    await env.advance(3_000);
    const boom = new Error('boom');
    f.last().reject(boom);
    await flush();
    expect(scheduler.getState()).toMatchObject({ status: 'error', data: 7, error: boom, isFetching: false });
    await env.advance(3_000);
    f.last().resolve(8);
    await flush();
    expect(scheduler.getState()).toMatchObject({ status: 'success', data: 8, error: null });
    scheduler.stop();
  });

  it('treats a fetcher that throws synchronously as a failed fetch', async () => {
    const scheduler = new LiveQueryScheduler<number>({
      fetcher: () => {
        throw new Error('sync');
      },
      ...seams(),
    });
    scheduler.start();
    await flush();
    expect(scheduler.getState().status).toBe('error');
    scheduler.stop();
  });

  it('after stop: aborts the fetch, leaves no timer and tells no listener', async () => {
    const f = controllableFetcher();
    const scheduler = new LiveQueryScheduler({ fetcher: f.fetcher, ...seams() });
    const listener = vi.fn();
    scheduler.subscribe(listener);
    scheduler.start();
    await flush();
    f.last().resolve(1);
    await flush();
    scheduler.invalidate();
    await env.advance(25);
    const inFlight = f.last();
    expect(f.calls).toHaveLength(2);
    scheduler.invalidate();

    listener.mockClear();
    scheduler.stop();
    expect(inFlight.signal.aborted).toBe(true);
    expect(env.pending()).toBe(0);
    inFlight.resolve(99);
    scheduler.invalidate();
    scheduler.refetch();
    scheduler.setConnected(true);
    await env.advance(60_000);
    expect(listener).not.toHaveBeenCalled();
    expect(f.calls).toHaveLength(2);
    expect(scheduler.getState().data).toBe(1);
    expect(scheduler.getState().isFetching).toBe(false);
  });

  it('starts over after stop (as React strict mode does)', async () => {
    const f = controllableFetcher();
    const scheduler = new LiveQueryScheduler({ fetcher: f.fetcher, ...seams() });
    scheduler.start();
    scheduler.stop();
    scheduler.start();
    await flush();
    expect(f.calls).toHaveLength(2);
    expect(f.calls[0]?.signal.aborted).toBe(true);
    f.calls[0]?.resolve(4);
    f.last().resolve(5);
    await flush();
    expect(scheduler.getState()).toMatchObject({ status: 'success', data: 5 });
    scheduler.stop();
  });
});
