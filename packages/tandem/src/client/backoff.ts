/**
 * Reconnect delays: exponential growth with full jitter. Attempt n waits a uniformly random
 * time in `[0, min(maxMs, initialMs × factorⁿ))`, so clients that failed together do not come
 * back together ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
 */
export interface BackoffOptions {
  /** Ceiling of the first retry's window. @default 100 */
  initialMs?: number;
  /** Growth of the window per failed attempt. @default 1.3 */
  factor?: number;
  /** Largest window. @default 2000 */
  maxMs?: number;
  /** `'full'`: uniform in `[0, window)`; `'none'`: exactly the window. @default 'full' */
  jitter?: 'full' | 'none';
  /**
   * Window of the first reconnect after an established stream drops (a cut, a server's `bye`).
   * Such drops hit many clients at the same instant, so the first return is spread over the
   * whole backoff window rather than over `initialMs`. @default 2000 (= the default `maxMs`)
   */
  dropWindowMs?: number;
  /** An open stream counts as stable, and resets the attempt count, after this long. @default 2000 */
  stableAfterMs?: number;
}

export type ResolvedBackoffOptions = Required<BackoffOptions>;

export const BACKOFF_DEFAULTS: Readonly<Required<BackoffOptions>> = {
  initialMs: 100,
  factor: 1.3,
  maxMs: 2000,
  jitter: 'full',
  dropWindowMs: 2000,
  stableAfterMs: 2000,
};

export function resolveBackoff(options: BackoffOptions | undefined): ResolvedBackoffOptions {
  return { ...BACKOFF_DEFAULTS, ...options };
}

/** The window (upper bound of the delay) of retry attempt `attempt` (0-based). */
export function backoffWindow(attempt: number, options: ResolvedBackoffOptions): number {
  const grown = options.initialMs * options.factor ** Math.max(0, attempt);
  return Math.min(options.maxMs, grown);
}

/** Applies the jitter policy to a window: a delay in `[0, window)` for full jitter. */
export function jittered(window: number, options: ResolvedBackoffOptions, random: () => number): number {
  if (options.jitter === 'none') return window;
  return Math.floor(random() * window);
}

/** The delay before retry attempt `attempt` (0-based). */
export function backoffDelay(
  attempt: number,
  options: ResolvedBackoffOptions,
  random: () => number = Math.random,
): number {
  return jittered(backoffWindow(attempt, options), options, random);
}
