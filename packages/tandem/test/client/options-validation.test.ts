import { afterEach, describe, expect, it } from 'vitest';
import { createLiveClient, fetchTransport, LiveQueryScheduler } from '../../src/client';
import type { LiveClientOptions } from '../../src/client/options';
import { TandemError } from '../../src/protocol';
import { until } from '../helpers/wait';
import { type Rig, startRig } from './harness';

/** Options as JavaScript (no type checker) may pass them. */
const loose = (options: Record<string, unknown>) => options as unknown as LiveClientOptions;
const URL_OK = 'http://127.0.0.1:1/live';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe('createLiveClient refuses bad options at once', () => {
  it('a string for channels, which it would follow letter by letter', () => {
    expect(() => createLiveClient(loose({ url: URL_OK, channels: 'orders' }))).toThrow(
      new TypeError('channels must be an array of names, got string'),
    );
    expect(() => createLiveClient(loose({ url: URL_OK }))).toThrow(TypeError);
  });

  it('no channel, more than 64, or an invalid name', () => {
    expect(() => createLiveClient({ url: URL_OK, channels: [] })).toThrow(
      new RangeError('channels must hold 1 to 64 names, got 0'),
    );
    const many = Array.from({ length: 65 }, (_, i) => `c${i}`);
    expect(() => createLiveClient({ url: URL_OK, channels: many })).toThrow(
      /^channels must hold 1 to 64 names, got 65$/,
    );
    // Duplicates count once: 64 distinct names and their repeats are fine.
    const client = createLiveClient({ url: URL_OK, channels: [...many.slice(0, 64), 'c0'] });
    client.close();
    expect(() => createLiveClient({ url: URL_OK, channels: ['ok', 'not ok'] })).toThrow(TandemError);
    expect(() => createLiveClient({ url: URL_OK, channels: ['ok', 'not ok'] })).toThrow(
      /invalid channel name "not ok"/,
    );
  });

  it('no url: says what is needed, not "Cannot read properties of undefined"', () => {
    for (const url of [undefined, '', 42]) {
      expect(() => createLiveClient(loose({ url, channels: ['a'] }))).toThrow(
        new TypeError("url is required: the hub's base URL"),
      );
    }
  });

  it('a relative url where there is no page: created inert (server rendering), refused at start', () => {
    // A page rendered on the server creates its client there with the page's relative URL.
    const client = createLiveClient({ url: '/api/live', channels: ['a'], storage: null });
    expect(client.getState().status).toBe('idle');
    expect(() => client.start()).toThrow(TypeError);
    expect(() => client.start()).toThrow(
      /^url must be absolute where there is no page to resolve it against, got \/api\/live$/,
    );
    // Nothing was started: no retry loop runs behind the error.
    expect(client.getState().status).toBe('idle');
    client.close();
  });

  it('numeric sub-options out of range, naming each', () => {
    const cases: Array<[string, Partial<LiveClientOptions>]> = [
      ['backoff.initialMs', { backoff: { initialMs: 0 } }],
      ['backoff.factor', { backoff: { factor: 0.5 } }],
      ['backoff.maxMs', { backoff: { maxMs: -1 } }],
      ['backoff.dropWindowMs', { backoff: { dropWindowMs: Number.NaN } }],
      ['backoff.stableAfterMs', { backoff: { stableAfterMs: Number.POSITIVE_INFINITY } }],
      ['watchdog.heartbeatMultiplier', { watchdog: { heartbeatMultiplier: 0 } }],
      ['watchdog.defaultHeartbeatMs', { watchdog: { defaultHeartbeatMs: 0 } }],
      ['watchdog.timeoutMs', { watchdog: { timeoutMs: -5 } }],
      ['watchdog.lateToleranceMs', { watchdog: { lateToleranceMs: -1 } }],
      ['watchdog.graceMs', { watchdog: { graceMs: 3e9 } }],
      ['poll.openIntervalMs', { poll: { openIntervalMs: 0 } }],
      ['poll.closedIntervalMs', { poll: { closedIntervalMs: 0 } }],
      ['poll.headsGraceMs', { poll: { headsGraceMs: -1 } }],
      ['poll.timeoutMs', { poll: { timeoutMs: Number.NaN } }],
      ['poll.jitterMs', { poll: { jitterMs: -1 } }],
    ];
    for (const [name, options] of cases) {
      const make = () => createLiveClient({ url: URL_OK, channels: ['a'], ...options });
      expect(make, name).toThrow(RangeError);
      expect(make, name).toThrow(new RegExp(`^${name.replace('.', '\\.')} must be a number from`));
    }
    expect(() =>
      createLiveClient(loose({ url: URL_OK, channels: ['a'], poll: { timeoutMs: '10' } })),
    ).toThrow(new TypeError('poll.timeoutMs must be a number from 1 to 2147483647, got string'));
  });

  it("the fetch transport's maxEventBytes", () => {
    expect(() => fetchTransport({ maxEventBytes: 0 })).toThrow(
      new RangeError('fetchTransport.maxEventBytes must be an integer from 1 to 9007199254740991, got 0'),
    );
    expect(() => fetchTransport({ maxEventBytes: 1.5 })).toThrow(RangeError);
    expect(typeof fetchTransport({ maxEventBytes: 1024 })).toBe('function');
  });

  it('takes the documented edges: no jitter, no grace, at once', () => {
    const client = createLiveClient({
      url: URL_OK,
      channels: ['a'],
      backoff: { initialMs: 1, factor: 1, dropWindowMs: 0, stableAfterMs: 0 },
      watchdog: { graceMs: 0, lateToleranceMs: 0 },
      poll: { jitterMs: 0, headsGraceMs: 0 },
    });
    client.close();
  });
});

describe('LiveQueryScheduler refuses intervals that would refetch without a pause', () => {
  const fetcher = async () => 1;

  it('at construction and in setTiming', () => {
    expect(() => new LiveQueryScheduler({ fetcher, connectedIntervalMs: 0 })).toThrow(
      /^connectedIntervalMs must be a number from 1 to 2147483647, got 0$/,
    );
    expect(() => new LiveQueryScheduler({ fetcher, disconnectedIntervalMs: -1 })).toThrow(RangeError);
    const scheduler = new LiveQueryScheduler({ fetcher, coalesceMs: 0 });
    expect(() => scheduler.setTiming({ coalesceMs: Number.NaN })).toThrow(/^coalesceMs must be/);
    expect(() => scheduler.setTiming({ disconnectedIntervalMs: 0 })).toThrow(RangeError);
  });
});

describe('a relative url in Node', () => {
  it('an absolute url to the same hub works where the relative one was refused', async () => {
    rig = await startRig();
    const client = createLiveClient({ url: rig.url, channels: ['a'], storage: null });
    client.start();
    expect(await until(() => client.getState().status === 'open', 5_000)).toBe(true);
    client.close();
  });
});
