import { checkNumbers, MAX_TIMER_MS, type NumberRule } from '../protocol';
import type { Settings } from './context';
import { type EventMap, HUB_DEFAULTS, type HubOptions } from './options';
import { resolvePublishEndpoint } from './publish-options';
import { largestEventBytes } from './replay';

/** A delay: 0 is "at once"; longer than a timer can wait is refused. */
const DELAY: NumberRule = { max: MAX_TIMER_MS };
/** A timer's period: 0 would spin (a heartbeat of 0 is about 850 pings a second per stream). */
const PERIOD: NumberRule = { min: 1, max: MAX_TIMER_MS };
/** A count or a size. */
const COUNT: NumberRule = { min: 1, integer: true };
/** Seconds a client waits on a timer. */
const SECONDS = Math.floor(MAX_TIMER_MS / 1000);

/** What each numeric option of the hub may be: `createHub` refuses anything else, naming it. */
const RULES: Readonly<Record<string, NumberRule>> = {
  heartbeatMs: PERIOD,
  // The SSE `retry:` field takes digits only: a browser ignores `1500.5`.
  retryMs: { ...DELAY, integer: true },
  maxBufferedBytes: COUNT,
  maxEventBytes: COUNT,
  // 0 refuses every stream (clients poll); Infinity is documented as "no limit".
  maxConnections: { integer: true, infinite: true },
  // `Retry-After` takes whole seconds.
  retryAfterSeconds: { integer: true, max: SECONDS },
  maxPollWaitSeconds: { max: SECONDS },
  maxPollEvents: COUNT,
  maxPollBytes: COUNT,
  closeTimeoutMs: DELAY,
  maxStreamDurationMs: { min: 1, infinite: true },
};

/**
 * `maxEventBytes`, checked against the stream buffer: an event that fits must never get a
 * stream cut as a slow consumer (it would reconnect, replay it, and be cut again).
 */
function eventLimit(requested: number | undefined, maxBufferedBytes: number): number {
  const largest = largestEventBytes(maxBufferedBytes);
  if (!(largest > 0)) {
    throw new RangeError(`maxBufferedBytes (${maxBufferedBytes}) is too small to carry any event`);
  }
  if (requested === undefined) return Math.min(HUB_DEFAULTS.maxEventBytes, largest);
  if (requested > largest) {
    throw new RangeError(
      `maxEventBytes (${requested}) does not fit maxBufferedBytes (${maxBufferedBytes}): with that buffer ` +
        `an event may have at most ${largest} bytes, or a stream receiving one could be cut as a slow ` +
        'consumer, again at every replay. Lower maxEventBytes or raise maxBufferedBytes.',
    );
  }
  return requested;
}

/** The hub's options with every default applied, checked: a wrong value throws at `createHub`. */
export function resolveSettings(options: HubOptions<EventMap>): Settings {
  checkNumbers('', options, RULES);
  if (typeof options.cors === 'object') {
    checkNumbers('cors', options.cors, { maxAgeSeconds: { integer: true } });
  }
  if (options.offline !== undefined && options.offline !== 'none' && options.offline !== 'undelivered') {
    throw new RangeError(`offline must be 'none' or 'undelivered', got ${String(options.offline)}`);
  }
  const maxBufferedBytes = options.maxBufferedBytes ?? HUB_DEFAULTS.maxBufferedBytes;
  return {
    authorize: options.authorize,
    heartbeatMs: options.heartbeatMs ?? HUB_DEFAULTS.heartbeatMs,
    retryMs: options.retryMs ?? HUB_DEFAULTS.retryMs,
    maxBufferedBytes,
    maxEventBytes: eventLimit(options.maxEventBytes, maxBufferedBytes),
    maxConnections: options.maxConnections ?? HUB_DEFAULTS.maxConnections,
    retryAfterSeconds: options.retryAfterSeconds ?? HUB_DEFAULTS.retryAfterSeconds,
    offline: options.offline ?? HUB_DEFAULTS.offline,
    basePath: options.basePath?.replace(/\/+$/, ''),
    // Served only by a sink that can render it.
    metricsEndpoint: options.metrics?.render ? options.metricsEndpoint : undefined,
    publishEndpoint: resolvePublishEndpoint(options.publishEndpoint),
    tokenCookie: options.tokenCookie ?? HUB_DEFAULTS.tokenCookie,
    maxPollWaitSeconds: options.maxPollWaitSeconds ?? HUB_DEFAULTS.maxPollWaitSeconds,
    maxPollEvents: options.maxPollEvents ?? HUB_DEFAULTS.maxPollEvents,
    maxPollBytes: options.maxPollBytes ?? HUB_DEFAULTS.maxPollBytes,
    closeTimeoutMs: options.closeTimeoutMs ?? HUB_DEFAULTS.closeTimeoutMs,
    maxStreamDurationMs: options.maxStreamDurationMs ?? HUB_DEFAULTS.maxStreamDurationMs,
  };
}
