/** The safety-net poller's options. */
export interface PollOptions {
  /** Poll at all. The poller is the safety net: turn it off only with a reason. @default true */
  enabled?: boolean;
  /**
   * Also poll on a timer while the stream is open, every `openIntervalMs`. Off by default: the
   * stream's heartbeats tell the channels' heads, and a client that falls behind one polls at
   * once (see `headsGraceMs`), so an open stream needs no timer poll.
   * @default false, or true when `openIntervalMs` is given
   */
  whileOpen?: boolean;
  /** Interval of the timer poll while the stream is open, when `whileOpen`. @default 10000 */
  openIntervalMs?: number;
  /**
   * A heartbeat announced a channel's head beyond this client's position: if no event brings
   * the client there within this grace (it may be on its way), the client polls at once.
   * @default 1000
   */
  headsGraceMs?: number;
  /** Interval while the stream is not open. @default 3000 */
  closedIntervalMs?: number;
  /** Keep polling while the page is hidden. @default false */
  whenHidden?: boolean;
  /** A poll request that has not answered after this long is abandoned. @default 10000 */
  timeoutMs?: number;
  /**
   * An overdue poll (the stream just dropped, long after the last poll) waits a random delay in
   * `[0, jitterMs)`: a server restart drops every client at once, and their polls must not all
   * land in the same millisecond either. @default 1000
   */
  jitterMs?: number;
}

export type ResolvedPollOptions = Required<PollOptions>;

export const POLL_DEFAULTS: Readonly<Required<PollOptions>> = {
  enabled: true,
  whileOpen: false,
  openIntervalMs: 10_000,
  headsGraceMs: 1_000,
  closedIntervalMs: 3_000,
  whenHidden: false,
  timeoutMs: 10_000,
  jitterMs: 1_000,
};

export function resolvePoll(options: PollOptions | undefined): ResolvedPollOptions {
  const whileOpen = options?.whileOpen ?? options?.openIntervalMs !== undefined;
  return { ...POLL_DEFAULTS, ...options, whileOpen };
}

export interface PollClock {
  now: number;
  /** When the last poll started, or when polling started if none has. */
  lastPollAt: number;
  streamOpen: boolean;
  hidden: boolean;
  /** The server asked to wait until then (`Retry-After`), or 0. */
  notBefore?: number;
  /** Spreads overdue polls; without it they run at once. */
  random?: () => number;
}

/**
 * Milliseconds until the next poll, or null while paused (and while the stream is open, unless
 * `whileOpen`). The interval counts from the last poll's start, so when the stream drops the
 * next poll comes at most `closedIntervalMs` after the previous one — or, if that is already
 * past, after a short random delay (`jitterMs`).
 */
export function nextPollDelay(clock: PollClock, options: ResolvedPollOptions): number | null {
  if (!options.enabled) return null;
  if (clock.hidden && !options.whenHidden) return null;
  if (clock.streamOpen && !options.whileOpen) return null;
  const interval = clock.streamOpen ? options.openIntervalMs : options.closedIntervalMs;
  const due = Math.max(clock.lastPollAt + interval, clock.notBefore ?? 0);
  if (due > clock.now) return due - clock.now;
  return clock.random ? Math.floor(clock.random() * options.jitterMs) : 0;
}
