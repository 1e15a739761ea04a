import { describe, expect, it } from 'vitest';
import { BACKOFF_DEFAULTS } from '../../src/client';
import { decodeStreamEvent } from '../../src/client/decode';
import { byeRetry, retryDecision } from '../../src/client/retry';
import { endpointUrl, withParam } from '../../src/client/urls';
import { TandemError } from '../../src/protocol';

const half = () => 0.5;

describe('retry decision', () => {
  it('stops for errors retrying cannot fix, and retries the rest', () => {
    for (const code of ['bad_request', 'invalid_channel', 'forbidden', 'not_found'] as const) {
      expect(
        retryDecision(new TandemError(code, 'x'), { attempt: 0, wasOpen: false }, BACKOFF_DEFAULTS, half),
      ).toEqual({
        kind: 'stop',
      });
    }
    expect(
      retryDecision(
        new TandemError('unauthorized', 'x'),
        { attempt: 0, wasOpen: false },
        BACKOFF_DEFAULTS,
        half,
      ),
    ).toEqual({ kind: 'retry', delayMs: 50 });
  });

  it('reconnects at once after a watchdog timeout', () => {
    expect(
      retryDecision(new TandemError('timeout', 'x'), { attempt: 5, wasOpen: true }, BACKOFF_DEFAULTS, half),
    ).toEqual({ kind: 'retry', delayMs: 0 });
  });

  it('honours Retry-After plus backoff', () => {
    const error = new TandemError('too_many_connections', 'x', { retryAfterMs: 2000 });
    expect(retryDecision(error, { attempt: 0, wasOpen: false }, BACKOFF_DEFAULTS, half)).toEqual({
      kind: 'retry',
      delayMs: 2050,
    });
  });

  it('spreads the first return after a stable stream dropped over the whole drop window', () => {
    const error = new TandemError('network', 'cut');
    expect(retryDecision(error, { attempt: 0, wasOpen: true }, BACKOFF_DEFAULTS, half)).toEqual({
      kind: 'retry',
      delayMs: 1000,
    });
    // Not yet stable: the growing backoff window instead.
    expect(retryDecision(error, { attempt: 3, wasOpen: true }, BACKOFF_DEFAULTS, half)).toEqual({
      kind: 'retry',
      delayMs: Math.floor(0.5 * 100 * 1.3 ** 3),
    });
  });

  it('maps a bye to its error and spreads the return over its window', () => {
    expect(byeRetry({ reason: 'shutdown', reconnectMs: 4000 }, BACKOFF_DEFAULTS, half)).toMatchObject({
      error: { code: 'shutting_down' },
      delayMs: 2000,
    });
    expect(byeRetry({ reason: 'token_expired' }, BACKOFF_DEFAULTS, half).error.code).toBe('token_expired');
    expect(byeRetry(null, BACKOFF_DEFAULTS, half).error.code).toBe('server_closed');
  });
});

describe('stream message decoding', () => {
  const event = (type: string, data: string) => ({ type, data, lastEventId: '' });

  it('decodes control messages and app events', () => {
    expect(decodeStreamEvent(event('tandem:ping', '{"t":1}'))).toEqual({ kind: 'ping', heads: null });
    expect(decodeStreamEvent(event('tandem:ping', '{"t":1,"heads":{"a":["e",4],"b":["f",0]}}'))).toEqual({
      kind: 'ping',
      heads: { a: { epoch: 'e', offset: 4 }, b: { epoch: 'f', offset: 0 } },
    });
    expect(decodeStreamEvent(event('tandem:resync', '{"channels":["a"],"reason":"gap"}'))).toEqual({
      kind: 'resync',
      resync: { channels: ['a'], reason: 'gap' },
    });
    expect(decodeStreamEvent(event('tandem:bye', '{"reason":"shutdown"}'))).toEqual({
      kind: 'bye',
      bye: { reason: 'shutdown' },
    });
    expect(
      decodeStreamEvent(event('order', '{"channel":"a","offset":3,"epoch":"e","ts":1,"data":7}')),
    ).toEqual({
      kind: 'event',
      event: { channel: 'a', offset: 3, epoch: 'e', ts: 1, data: 7, type: 'order', source: 'stream' },
    });
  });

  it('never throws on malformed data', () => {
    expect(decodeStreamEvent(event('tandem:hello', 'not json'))).toEqual({ kind: 'invalid' });
    expect(decodeStreamEvent(event('tandem:resync', '{"channels":"a"}'))).toEqual({ kind: 'invalid' });
    expect(decodeStreamEvent(event('order', '{"channel":"a","offset":1.5}'))).toEqual({ kind: 'invalid' });
    expect(decodeStreamEvent(event('order', 'null'))).toEqual({ kind: 'invalid' });
    expect(decodeStreamEvent(event('tandem:bye', '{'))).toEqual({ kind: 'bye', bye: null });
    expect(decodeStreamEvent(event('tandem:ping', '{'))).toEqual({ kind: 'ping', heads: null });
    // Malformed heads are skipped one by one; the well-formed ones count.
    expect(
      decodeStreamEvent(
        event('tandem:ping', '{"t":1,"heads":{"a":["e",1.5],"b":[3,1],"c":"x","d":["e",-1],"e":["e",2]}}'),
      ),
    ).toEqual({ kind: 'ping', heads: { e: { epoch: 'e', offset: 2 } } });
    expect(decodeStreamEvent(event('tandem:ping', '{"t":1,"heads":[["e",1]]}'))).toEqual({
      kind: 'ping',
      heads: null,
    });
  });
});

describe('urls', () => {
  it('builds endpoints keeping the base query, and adds parameters', () => {
    expect(endpointUrl('/api/live/', 'stream', ['a/b', 'c'])).toBe('/api/live/stream?channels=a%2Fb,c');
    expect(endpointUrl('https://x/live?v=2', 'poll', ['a'])).toBe('https://x/live/poll?v=2&channels=a');
    expect(withParam('/p?channels=a', 'cursor', 'x y')).toBe('/p?channels=a&cursor=x%20y');
    expect(withParam('/p', 'token', 't')).toBe('/p?token=t');
  });
});
