import { describe, expect, it, vi } from 'vitest';
import { memoryBroker } from '../../src/broker';
import { jwtAuthorizer } from '../../src/jwt';
import { checkNumber, MAX_TIMER_MS } from '../../src/protocol';
import { createHub, globalHub, type HubOptions } from '../../src/server';

/** Values a careless caller passes: zero, negative, not a number, past a timer, fractional. */
const NOT_A_NUMBER = ['2000', null, true] as const;

describe('createHub refuses a numeric option out of range, naming it', () => {
  const cases: Array<[keyof HubOptions, unknown[]]> = [
    ['heartbeatMs', [0, -1, Number.NaN, Number.POSITIVE_INFINITY, MAX_TIMER_MS + 1]],
    ['retryMs', [-1, 1500.5, Number.NaN, Number.POSITIVE_INFINITY]],
    ['maxBufferedBytes', [0, -5, 1.5, Number.POSITIVE_INFINITY]],
    ['maxEventBytes', [0, -1, 0.5, Number.NaN]],
    ['maxConnections', [-1, 2.5, Number.NaN]],
    ['retryAfterSeconds', [-1, 1.5, Number.POSITIVE_INFINITY]],
    ['maxPollWaitSeconds', [-1, Number.NaN, Number.POSITIVE_INFINITY]],
    ['maxPollEvents', [0, -1, 2.5, Number.POSITIVE_INFINITY]],
    ['maxPollBytes', [0, -1, Number.NaN]],
    ['closeTimeoutMs', [-1, Number.NaN, Number.POSITIVE_INFINITY, MAX_TIMER_MS + 1]],
    ['maxStreamDurationMs', [0, -1, Number.NaN]],
  ];
  for (const [name, values] of cases) {
    it(`${name}: ${values.map(String).join(', ')}`, () => {
      for (const value of values) {
        expect(() => createHub({ [name]: value }), `${name}: ${value}`).toThrow(RangeError);
        expect(() => createHub({ [name]: value }), `${name}: ${value}`).toThrow(
          new RegExp(`^${name} must be`),
        );
      }
    });
  }

  it('refuses a heartbeat of 0, which would send hundreds of pings a second to every stream', () => {
    expect(() => createHub({ heartbeatMs: 0 })).toThrow(
      'heartbeatMs must be a number from 1 to 2147483647, got 0',
    );
  });

  it('refuses a string from JavaScript with a TypeError', () => {
    for (const value of NOT_A_NUMBER) {
      expect(() => createHub({ heartbeatMs: value as unknown as number })).toThrow(TypeError);
      expect(() => createHub({ heartbeatMs: value as unknown as number })).toThrow(
        /^heartbeatMs must be a number from 1 to 2147483647, got (string|object|boolean)$/,
      );
    }
  });

  it('refuses a bad cors max age and an unknown offline mode', () => {
    expect(() => createHub({ cors: { maxAgeSeconds: -1 } })).toThrow(
      /^cors\.maxAgeSeconds must be an integer/,
    );
    expect(() => createHub({ cors: { maxAgeSeconds: 0.5 } })).toThrow(RangeError);
    expect(() => createHub({ offline: 'always' as 'none' })).toThrow(
      "offline must be 'none' or 'undelivered', got always",
    );
  });

  it('takes the documented edges: no limit, never, at once', async () => {
    const hubs = [
      createHub({ maxConnections: 0 }),
      createHub({ maxConnections: Number.POSITIVE_INFINITY }),
      createHub({ maxStreamDurationMs: Number.POSITIVE_INFINITY }),
      createHub({ closeTimeoutMs: 0, retryMs: 0, retryAfterSeconds: 0, maxPollWaitSeconds: 0 }),
      createHub({ heartbeatMs: 1, maxPollWaitSeconds: 0.5, cors: { maxAgeSeconds: 0 } }),
    ];
    // Each one serves.
    for (const hub of hubs) {
      expect((await hub.fetch(new Request('http://localhost/poll?channels=x'))).status).toBe(200);
    }
    await Promise.all(hubs.map((hub) => hub.close()));
  });
});

describe('memoryBroker refuses a numeric option out of range, naming it', () => {
  const cases: Array<[string, unknown[]]> = [
    ['retentionMs', [0, -1, Number.NaN, Number.POSITIVE_INFINITY]],
    ['maxEventsPerChannel', [0, -1, 1.5, Number.POSITIVE_INFINITY]],
    ['sweepMs', [0, -1, Number.NaN, MAX_TIMER_MS + 1]],
    ['idleTtlMs', [-1, Number.NaN, Number.POSITIVE_INFINITY]],
    ['idempotencyWindowMs', [-1, Number.NaN]],
  ];
  for (const [name, values] of cases) {
    it(`${name}: ${values.map(String).join(', ')}`, () => {
      for (const value of values) {
        expect(() => memoryBroker({ [name]: value }), `${name}: ${value}`).toThrow(
          new RegExp(`^memoryBroker\\.${name} must be`),
        );
      }
    });
  }

  it('takes idleTtlMs 0 (keep channels forever) and stores events', async () => {
    const broker = memoryBroker({ idleTtlMs: 0, maxEventsPerChannel: 1, retentionMs: 1 });
    const event = await broker.append('c', 't', { a: 1 });
    expect(event.offset).toBe(1);
    await broker.close();
  });
});

describe('checkNumber', () => {
  it('says what the option must be and what it got', () => {
    expect(() => checkNumber('poll.timeoutMs', -3, { min: 1, max: 10, integer: true })).toThrow(
      new RangeError('poll.timeoutMs must be an integer from 1 to 10, got -3'),
    );
    expect(() => checkNumber('maxConnections', Number.NaN, { integer: true, infinite: true })).toThrow(
      /^maxConnections must be an integer from 0 to 9007199254740991 or Infinity, got NaN$/,
    );
    expect(() => checkNumber('heartbeatMs', '2000')).toThrow(
      new TypeError('heartbeatMs must be a number from 0 to 9007199254740991, got string'),
    );
  });

  it('returns what it accepts', () => {
    expect(checkNumber('a', 0)).toBe(0);
    expect(checkNumber('a', 2.5, { max: 3 })).toBe(2.5);
    expect(checkNumber('a', Number.POSITIVE_INFINITY, { infinite: true })).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('globalHub', () => {
  it('refuses a second factory under the same name, showing where the two differ', async () => {
    // Two modules, each with its own idea of the hub 'auth-order': whichever ran first would win.
    const open = globalHub('auth-order', () => createHub({ heartbeatMs: 1000 }));
    let message = '';
    try {
      globalHub('auth-order', () =>
        createHub({ heartbeatMs: 1000, authorize: jwtAuthorizer({ secret: 'x'.repeat(32) }) }),
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^globalHub\('auth-order'\) was called with a different factory/);
    // Each as this process runs it (a bundler rewrites imports), cut where they part.
    const first = message.split('\n').find((line) => line.startsWith('  first: '))!;
    const now = message.split('\n').find((line) => line.startsWith('  now:   '))!;
    expect(first).toMatch(/createHub\)?\(\{ heartbeatMs: 1(000|e3) \}\)$/);
    expect(now).toMatch(/createHub\)?\(\{ heartbeatMs: 1(000|e3), authorize: /);
    // The first hub stays, and the same factory still gets it.
    expect(globalHub('auth-order', () => createHub({ heartbeatMs: 1000 }))).toBe(open);
    await open.close();
  });

  it('in production, warns once per factory instead, and keeps the running hub', async () => {
    const open = globalHub('prod-order', () => createHub({ heartbeatMs: 1000 }));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.stubEnv('NODE_ENV', 'production');
    try {
      const other = () => createHub({ heartbeatMs: 5000 });
      expect(globalHub('prod-order', other)).toBe(open);
      expect(globalHub('prod-order', other)).toBe(open);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(
        /^tandem: globalHub\('prod-order'\) was called with a different factory/,
      );
    } finally {
      vi.unstubAllEnvs();
      warn.mockRestore();
    }
    await open.close();
  });

  it('returns the same hub to a reload, or another bundle, of the same factory', async () => {
    const first = globalHub('reloaded', () => createHub({ retryMs: 500 }));
    // A bundler names a module's imports differently in each copy it makes (a route's, a page's).
    const minified = (n: { createHub: typeof createHub }) => () => n.createHub({ retryMs: 500 });
    const again = (o: { createHub: typeof createHub }) => () => o.createHub({ retryMs: 500 });
    expect(globalHub('minified', minified({ createHub }))).toBe(globalHub('minified', again({ createHub })));
    expect(globalHub('reloaded', () => createHub({ retryMs: 500 }))).toBe(first);
    await first.close();
    await globalHub('minified', again({ createHub })).close();
  });
});
