import { largestEventBytes } from './connection';
import type { Settings } from './context';
import { DEFAULTS, type EventMap, type HubOptions } from './options';

function positive(name: string, value: number): number {
  if (!(value > 0)) throw new RangeError(`${name} must be positive`);
  return value;
}

/**
 * `maxEventBytes`, checked against the stream buffer: an event that fits must never get a
 * stream cut as a slow consumer (it would reconnect, replay it, and be cut again).
 */
function eventLimit(requested: number | undefined, maxBufferedBytes: number): number {
  const largest = largestEventBytes(maxBufferedBytes);
  if (!(largest > 0)) {
    throw new RangeError(`maxBufferedBytes (${maxBufferedBytes}) is too small to carry any event`);
  }
  if (requested === undefined) return Math.min(DEFAULTS.maxEventBytes, largest);
  if (!(requested > 0)) throw new RangeError('maxEventBytes must be positive');
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
  const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes;
  return {
    authorize: options.authorize,
    heartbeatMs: options.heartbeatMs ?? DEFAULTS.heartbeatMs,
    retryMs: options.retryMs ?? DEFAULTS.retryMs,
    maxBufferedBytes,
    maxEventBytes: eventLimit(options.maxEventBytes, maxBufferedBytes),
    maxConnections: options.maxConnections ?? DEFAULTS.maxConnections,
    retryAfterSeconds: options.retryAfterSeconds ?? DEFAULTS.retryAfterSeconds,
    offline: options.offline ?? DEFAULTS.offline,
    basePath: options.basePath?.replace(/\/+$/, ''),
    // Served only by a sink that can render it.
    metricsEndpoint: options.metrics?.render ? options.metricsEndpoint : undefined,
    tokenCookie: options.tokenCookie ?? DEFAULTS.tokenCookie,
    maxPollWaitSeconds: options.maxPollWaitSeconds ?? DEFAULTS.maxPollWaitSeconds,
    maxPollEvents: options.maxPollEvents ?? DEFAULTS.maxPollEvents,
    maxPollBytes: positive('maxPollBytes', options.maxPollBytes ?? DEFAULTS.maxPollBytes),
    closeTimeoutMs: options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs,
    maxStreamDurationMs: options.maxStreamDurationMs ?? DEFAULTS.maxStreamDurationMs,
  };
}
