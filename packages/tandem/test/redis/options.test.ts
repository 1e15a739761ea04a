import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TIMER_MS } from '../../src/protocol';
import { type RedisBrokerOptions, redisBroker } from '../../src/redis';
import { type RedisServer, startRedis } from '../helpers/redis-server';

/** The error `redisBroker(options)` throws at once, before any connection. */
function refusal(options: unknown): Error {
  try {
    const broker = redisBroker(options as RedisBrokerOptions);
    void broker.close();
  } catch (error) {
    return error as Error;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

describe('redisBroker options', () => {
  it.each([
    ['retentionMs', 0],
    ['retentionMs', -1],
    ['retentionMs', Number.NaN],
    ['retentionMs', Number.POSITIVE_INFINITY],
    ['maxEventsPerChannel', 0],
    ['maxEventsPerChannel', 2.5],
    ['maxEventsPerChannel', Number.POSITIVE_INFINITY],
    ['idleTtlMs', -1],
    ['idleTtlMs', 1.5],
    ['idleTtlMs', Number.NaN],
    ['commandTimeoutMs', 0],
    ['commandTimeoutMs', MAX_TIMER_MS + 1],
    ['commandTimeoutMs', Number.NaN],
    ['headCheckMs', -1],
    ['headCheckMs', MAX_TIMER_MS + 1],
    ['headCheckMs', Number.POSITIVE_INFINITY],
    ['idempotencyWindowMs', -1],
    ['idempotencyWindowMs', 0.5],
    ['idempotencyWindowMs', Number.MAX_SAFE_INTEGER + 2],
  ])('refuses %s = %s with a RangeError naming it', (name, value) => {
    const error = refusal({ [name]: value });
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toContain(`redisBroker.${name}`);
  });

  it.each([
    ['retentionMs', '300000'],
    ['maxEventsPerChannel', null],
    ['idleTtlMs', true],
    ['commandTimeoutMs', '2s'],
    ['headCheckMs', {}],
    ['idempotencyWindowMs', 10n],
    ['url', 6379],
    ['prefix', 5],
    ['onListenerError', 'log'],
    ['client', 'redis://localhost'],
    ['client', {}],
  ])('refuses %s of the wrong type with a TypeError naming it', (name, value) => {
    const error = refusal({ [name]: value });
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toContain(`redisBroker.${name}`);
  });

  it.each(['', 'a{b}', 'star*', 'back\\slash'])('refuses the prefix %j with a RangeError', (prefix) => {
    const error = refusal({ prefix });
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toContain('redisBroker.prefix');
  });

  it('refuses options that are not an object', () => {
    expect(refusal(null)).toBeInstanceOf(TypeError);
    expect(refusal('redis://localhost')).toBeInstanceOf(TypeError);
  });

  describe('on a Redis server', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it('accepts the limits of every range, 0 where it means "off" or "forever"', async () => {
      const broker = redisBroker({
        url: redis.url,
        prefix: 'limits',
        retentionMs: 1,
        maxEventsPerChannel: 1,
        idleTtlMs: 0,
        commandTimeoutMs: MAX_TIMER_MS,
        headCheckMs: 0,
        idempotencyWindowMs: 0,
      });
      try {
        await broker.ready();
        // A window of 0 remembers no key: every append is new.
        const key = { idempotencyKey: 'k' };
        expect((await broker.append('c', 't', 1, undefined, key)).offset).toBe(1);
        expect((await broker.append('c', 't', 2, undefined, key)).offset).toBe(2);
      } finally {
        await broker.close();
      }
    });
  });
});
