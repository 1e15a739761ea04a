import { TimerSlot } from '../protocol';
import type { Environment } from './environment';

export interface WatchdogOptions {
  /** Silence, as a multiple of the server's announced heartbeat, that counts as dead. @default 3 */
  heartbeatMultiplier?: number;
  /** Heartbeat assumed until the server announces one (`tandem:hello`). @default 2000 */
  defaultHeartbeatMs?: number;
  /** A fixed silence limit in ms, overriding heartbeat × multiplier. */
  timeoutMs?: number;
  /**
   * A check that fires this much later than planned means the event loop was suspended
   * (throttled background tab, sleeping laptop, blocked loop); bytes may be waiting unread.
   * @default 1000
   */
  lateToleranceMs?: number;
  /**
   * After a late check, or one whose wait overlapped hidden time, the watchdog looks again
   * after this grace instead of declaring a timeout. @default 1000
   */
  graceMs?: number;
}

export const WATCHDOG_DEFAULTS = {
  heartbeatMultiplier: 3,
  defaultHeartbeatMs: 2000,
  lateToleranceMs: 1000,
  graceMs: 1000,
} as const;

export interface Watchdog {
  /** Starts watching a new connection; counts from now. */
  start(): void;
  /** Records activity (any byte received). */
  touch(): void;
  /** Adopts the heartbeat the server announced. */
  setHeartbeat(heartbeatMs: number): void;
  stop(): void;
  /** The current silence limit in ms. */
  readonly timeoutMs: number;
}

/**
 * Declares a connection dead after `timeoutMs` without a byte. One timer per connection, re-armed
 * at the deadline rather than on every byte. Visibility-aware: a timer that fired late, or whose
 * wait overlapped a hidden period, is not by itself proof of silence — the loop may simply not
 * have run — so the watchdog grants one short grace and checks again.
 */
export function createWatchdog(
  env: Pick<Environment, 'now' | 'timers' | 'hidden'>,
  options: WatchdogOptions,
  onTimeout: (silentMs: number) => void,
): Watchdog {
  const multiplier = options.heartbeatMultiplier ?? WATCHDOG_DEFAULTS.heartbeatMultiplier;
  const lateTolerance = options.lateToleranceMs ?? WATCHDOG_DEFAULTS.lateToleranceMs;
  const graceMs = options.graceMs ?? WATCHDOG_DEFAULTS.graceMs;
  let heartbeatMs: number = options.defaultHeartbeatMs ?? WATCHDOG_DEFAULTS.defaultHeartbeatMs;
  const limit = () => options.timeoutMs ?? heartbeatMs * multiplier;

  let running = false;
  const timer = new TimerSlot(env.timers);
  let lastActivity = 0;
  let expectedAt = 0;
  let hiddenDuringWait = false;
  let graceUsed = false;
  let unsubscribeHidden: (() => void) | null = null;

  function arm(ms: number): void {
    expectedAt = env.now() + ms;
    hiddenDuringWait = env.hidden.get();
    timer.set(ms, check);
  }

  function check(): void {
    if (!running) return;
    const now = env.now();
    const deadline = lastActivity + limit();
    if (now < deadline) {
      graceUsed = false;
      arm(deadline - now);
      return;
    }
    const late = now - expectedAt > lateTolerance;
    if ((late || hiddenDuringWait || env.hidden.get()) && !graceUsed) {
      graceUsed = true;
      arm(graceMs);
      return;
    }
    stop();
    onTimeout(now - lastActivity);
  }

  function stop(): void {
    running = false;
    timer.clear();
    unsubscribeHidden?.();
    unsubscribeHidden = null;
  }

  return {
    start() {
      stop();
      running = true;
      graceUsed = false;
      lastActivity = env.now();
      unsubscribeHidden = env.hidden.subscribe((hidden) => {
        if (hidden) hiddenDuringWait = true;
      });
      arm(limit());
    },
    touch() {
      lastActivity = env.now();
    },
    setHeartbeat(ms) {
      if (!Number.isFinite(ms) || ms <= 0) return;
      heartbeatMs = ms;
      // Re-plan from the last activity with the new limit (it may be shorter than the default).
      if (running) {
        graceUsed = false;
        arm(Math.max(0, lastActivity + limit() - env.now()));
      }
    },
    stop,
    get timeoutMs() {
      return limit();
    },
  };
}
