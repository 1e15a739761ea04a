import { BROKER_DEFAULTS } from '../broker';
import { checkNumbers, MAX_TIMER_MS } from '../protocol';
import type { RedisBrokerOptions } from './options';

/** `redisBroker`'s own defaults; retention, idle TTL and idempotency come from `BROKER_DEFAULTS`. */
export const REDIS_DEFAULTS = {
  prefix: 'tandem',
  commandTimeoutMs: 2000,
  headCheckMs: 10_000,
  presenceTtlMs: 30_000,
} as const;

/** The options with every default applied, each checked. */
interface RedisSettings {
  prefix: string;
  retentionMs: number;
  maxEventsPerChannel: number;
  idleTtlMs: number;
  presenceTtlMs: number;
  commandTimeoutMs: number;
  headCheckMs: number;
  idempotencyWindowMs: number;
}

function optional(
  options: RedisBrokerOptions,
  name: keyof RedisBrokerOptions,
  type: 'string' | 'function' | 'object',
): void {
  const value = options[name];
  if (value === undefined) return;
  if (typeof value !== type || value === null) {
    throw new TypeError(
      `redisBroker.${name} must be ${type === 'object' ? 'a node-redis client' : `a ${type}`}`,
    );
  }
}

/** Checks every option of `redisBroker` at construction: a wrong type or value throws at once. */
export function resolveSettings(options: RedisBrokerOptions): RedisSettings {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('redisBroker: options must be an object');
  }
  optional(options, 'url', 'string');
  optional(options, 'client', 'object');
  if (options.client !== undefined && typeof options.client.duplicate !== 'function') {
    throw new TypeError('redisBroker.client must be a node-redis client (it has no duplicate())');
  }
  optional(options, 'prefix', 'string');
  optional(options, 'onListenerError', 'function');
  const prefix = options.prefix ?? REDIS_DEFAULTS.prefix;
  if (prefix === '' || /[{}*?[\]\\]/.test(prefix)) {
    throw new RangeError('redisBroker.prefix must be non-empty, without any of {}*?[]\\');
  }
  // Durations that go into PEXPIRE must be whole ms; counts are whole.
  checkNumbers('redisBroker', options, {
    retentionMs: { min: 1 },
    maxEventsPerChannel: { min: 1, integer: true },
    idleTtlMs: { integer: true },
    presenceTtlMs: { min: 3, max: MAX_TIMER_MS, integer: true },
    commandTimeoutMs: { min: 1, max: MAX_TIMER_MS },
    headCheckMs: { max: MAX_TIMER_MS },
    idempotencyWindowMs: { integer: true },
  });
  return {
    prefix,
    retentionMs: options.retentionMs ?? BROKER_DEFAULTS.retentionMs,
    maxEventsPerChannel: options.maxEventsPerChannel ?? BROKER_DEFAULTS.maxEventsPerChannel,
    idleTtlMs: options.idleTtlMs ?? BROKER_DEFAULTS.idleTtlMs,
    presenceTtlMs: options.presenceTtlMs ?? REDIS_DEFAULTS.presenceTtlMs,
    commandTimeoutMs: options.commandTimeoutMs ?? REDIS_DEFAULTS.commandTimeoutMs,
    headCheckMs: options.headCheckMs ?? REDIS_DEFAULTS.headCheckMs,
    idempotencyWindowMs: options.idempotencyWindowMs ?? BROKER_DEFAULTS.idempotencyWindowMs,
  };
}
