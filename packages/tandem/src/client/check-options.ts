import {
  assertChannel,
  checkNumbers,
  MAX_CHANNELS_PER_REQUEST,
  MAX_TIMER_MS,
  type NumberRule,
} from '../protocol';
import type { LiveClientOptions } from './options';

/** A delay: 0 is "at once". */
const DELAY: NumberRule = { max: MAX_TIMER_MS };
/** A timer's period or a limit: 0 would spin (a retry or a poll loop without a pause). */
const PERIOD: NumberRule = { min: 1, max: MAX_TIMER_MS };

/**
 * Checks what `createLiveClient` is given before anything runs, so that a wrong option throws
 * at once, naming it, instead of showing later as a client that follows the letters of a string
 * or retries without a pause. Returns the channels without duplicates.
 */
export function checkOptions(options: LiveClientOptions): string[] {
  const { url, channels } = options;
  if (typeof url !== 'string' || !url) {
    throw new TypeError("url is required: the hub's base URL");
  }
  // A string from JavaScript would otherwise be followed letter by letter.
  if (!Array.isArray(channels)) {
    throw new TypeError(`channels must be an array of names, got ${typeof channels}`);
  }
  const unique = [...new Set<string>(channels)];
  if (!unique.length || unique.length > MAX_CHANNELS_PER_REQUEST) {
    throw new RangeError(`channels must hold 1 to ${MAX_CHANNELS_PER_REQUEST} names, got ${unique.length}`);
  }
  for (const channel of unique) assertChannel(channel);
  checkNumbers('backoff', options.backoff, {
    initialMs: PERIOD,
    factor: { min: 1 },
    maxMs: PERIOD,
    dropWindowMs: DELAY,
    stableAfterMs: DELAY,
  });
  checkNumbers('watchdog', options.watchdog, {
    heartbeatMultiplier: { min: 1 },
    defaultHeartbeatMs: PERIOD,
    timeoutMs: PERIOD,
    lateToleranceMs: DELAY,
    graceMs: DELAY,
  });
  checkNumbers('poll', options.poll, {
    openIntervalMs: PERIOD,
    headsGraceMs: DELAY,
    closedIntervalMs: PERIOD,
    timeoutMs: PERIOD,
    jitterMs: DELAY,
  });
  return unique;
}

/**
 * Where there is no page to resolve it against (Node, a worker without a location), `url` must
 * be absolute: a relative one fails every request, and the client would retry it forever.
 * Checked at `start()`, not at construction: a page rendered on the server creates its client
 * there, inert, with the page's relative URL.
 */
export function checkUrl(url: string): void {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    new URL(url, base);
  } catch {
    throw new TypeError(`url must be absolute where there is no page to resolve it against, got ${url}`);
  }
}
