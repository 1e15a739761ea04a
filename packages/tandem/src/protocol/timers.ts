/**
 * The timer seam shared by client and server code: injectable so that tests drive time, and one
 * helper for the "at most one pending timer of this kind" pattern.
 */

export type TimerHandle = unknown;

export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const defaultTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Timers whose handles do not keep a Node process alive (`unref`), for housekeeping that must
 * never hold a server open on its own. Elsewhere they are the given timers unchanged.
 */
export function unrefTimers(timers: Timers): Timers {
  return {
    setTimeout(callback, ms) {
      const handle = timers.setTimeout(callback, ms);
      (handle as { unref?: () => void } | null)?.unref?.();
      return handle;
    },
    clearTimeout: (handle) => timers.clearTimeout(handle),
  };
}

/**
 * One pending timer at most: `set` replaces the previous one, `clear` is idempotent, and
 * `pending` tells whether one waits.
 */
export class TimerSlot {
  #handle: TimerHandle = null;

  readonly #timers: Timers;

  constructor(timers: Timers) {
    this.#timers = timers;
  }

  get pending(): boolean {
    return this.#handle !== null;
  }

  set(ms: number, callback: () => void): void {
    this.clear();
    this.#handle = this.#timers.setTimeout(() => {
      this.#handle = null;
      callback();
    }, ms);
  }

  /** Sets the timer only when none waits. */
  setIfIdle(ms: number, callback: () => void): void {
    if (this.#handle === null) this.set(ms, callback);
  }

  clear(): void {
    if (this.#handle === null) return;
    this.#timers.clearTimeout(this.#handle);
    this.#handle = null;
  }
}
