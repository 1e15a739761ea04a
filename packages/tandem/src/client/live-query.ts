/**
 * The scheduling core of `useLiveQuery`, free of React (usable on its own, e.g. with another
 * view library): an initial load, coalesced refetches on events, an adaptive interval, never two
 * fetches at once, and nothing after `stop()`.
 */
import { checkNumbers, defaultTimers, MAX_TIMER_MS, TimerSlot, type Timers } from '../protocol';

export type LiveQueryStatus = 'pending' | 'success' | 'error';

/** A new object on every change (safe for `useSyncExternalStore`). */
export interface LiveQueryState<T> {
  /** The last successfully fetched data; kept when a later fetch fails. */
  data: T | undefined;
  /** The error of the last fetch, or null when it succeeded. */
  error: unknown;
  /** `pending` until the first fetch settles, then the outcome of the latest fetch. */
  status: LiveQueryStatus;
  /** True while a fetch runs. */
  isFetching: boolean;
  /** When data last arrived (ms), or null. */
  updatedAt: number | null;
}

export interface LiveQueryTiming {
  /** Refetch interval while the stream is open. Default 10 000 ms. */
  connectedIntervalMs?: number;
  /** Refetch interval while it is not (the events may be late). Default 3 000 ms. */
  disconnectedIntervalMs?: number;
  /** Events within this window cause one refetch. Default 25 ms. */
  coalesceMs?: number;
}

export interface LiveQuerySchedulerOptions<T> extends LiveQueryTiming {
  /** Loads the data; must honour the signal, which aborts when the scheduler stops. */
  fetcher: (signal: AbortSignal) => Promise<T>;
  /** @default globalThis.setTimeout / clearTimeout */
  timers?: Timers;
  /** @default Date.now */
  now?: () => number;
}

export const LIVE_QUERY_DEFAULTS = {
  connectedIntervalMs: 10_000,
  disconnectedIntervalMs: 3_000,
  coalesceMs: 25,
} as const;

/** An interval of 0 would refetch without a pause. */
function checkTiming(timing: LiveQueryTiming): void {
  const interval = { min: 1, max: MAX_TIMER_MS };
  checkNumbers('', timing, {
    connectedIntervalMs: interval,
    disconnectedIntervalMs: interval,
    coalesceMs: { max: MAX_TIMER_MS },
  });
}

export class LiveQueryScheduler<T> {
  readonly #fetcher: (signal: AbortSignal) => Promise<T>;
  readonly #now: () => number;
  #connectedIntervalMs: number;
  #disconnectedIntervalMs: number;
  #coalesceMs: number;

  #state: LiveQueryState<T> = {
    data: undefined,
    error: null,
    status: 'pending',
    isFetching: false,
    updatedAt: null,
  };
  readonly #listeners = new Set<() => void>();
  #running = false;
  #connected = false;
  /** The in-flight fetch's controller; null when none runs. */
  #controller: AbortController | null = null;
  /** A trigger arrived during the in-flight fetch: run exactly one more after it. */
  #followUp = false;
  readonly #coalesceTimer: TimerSlot;
  readonly #intervalTimer: TimerSlot;
  #lastSettledAt: number | null = null;

  constructor(options: LiveQuerySchedulerOptions<T>) {
    checkTiming(options);
    this.#fetcher = options.fetcher;
    const timers = options.timers ?? defaultTimers;
    this.#now = options.now ?? Date.now;
    this.#coalesceTimer = new TimerSlot(timers);
    this.#intervalTimer = new TimerSlot(timers);
    this.#connectedIntervalMs = options.connectedIntervalMs ?? LIVE_QUERY_DEFAULTS.connectedIntervalMs;
    this.#disconnectedIntervalMs =
      options.disconnectedIntervalMs ?? LIVE_QUERY_DEFAULTS.disconnectedIntervalMs;
    this.#coalesceMs = options.coalesceMs ?? LIVE_QUERY_DEFAULTS.coalesceMs;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  getState = (): LiveQueryState<T> => this.#state;

  /** Loads now, then keeps the data fresh. Calling it again after `stop()` starts over. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#fetchNow();
  }

  /** Aborts the in-flight fetch and clears every timer; no listener is called afterwards. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#coalesceTimer.clear();
    this.#intervalTimer.clear();
    this.#followUp = false;
    const controller = this.#controller;
    this.#controller = null;
    controller?.abort();
    // Silently: a stopped query reports nothing, but a restart must not look busy.
    if (this.#state.isFetching) this.#state = { ...this.#state, isFetching: false };
  }

  /** An event says the data changed: refetch once for a burst of such calls. */
  invalidate(): void {
    if (!this.#running) return;
    if (this.#controller) {
      this.#followUp = true;
      return;
    }
    this.#coalesceTimer.setIfIdle(this.#coalesceMs, () => this.#request());
  }

  /** Refetches as soon as no other fetch runs. */
  refetch(): void {
    if (!this.#running) return;
    this.#coalesceTimer.clear();
    this.#request();
  }

  /** Switches between the connected and the disconnected interval, counted from the last fetch. */
  setConnected(connected: boolean): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    if (this.#running && !this.#controller) this.#scheduleInterval();
  }

  setTiming(timing: LiveQueryTiming): void {
    checkTiming(timing);
    const { connectedIntervalMs, disconnectedIntervalMs, coalesceMs } = timing;
    const changed =
      (connectedIntervalMs !== undefined && connectedIntervalMs !== this.#connectedIntervalMs) ||
      (disconnectedIntervalMs !== undefined && disconnectedIntervalMs !== this.#disconnectedIntervalMs);
    this.#connectedIntervalMs = connectedIntervalMs ?? this.#connectedIntervalMs;
    this.#disconnectedIntervalMs = disconnectedIntervalMs ?? this.#disconnectedIntervalMs;
    this.#coalesceMs = coalesceMs ?? this.#coalesceMs;
    if (changed && this.#running && !this.#controller) this.#scheduleInterval();
  }

  #request(): void {
    if (this.#controller) this.#followUp = true;
    else this.#fetchNow();
  }

  #fetchNow(): void {
    this.#coalesceTimer.clear();
    this.#intervalTimer.clear();
    const controller = new AbortController();
    this.#controller = controller;
    this.#setState({ ...this.#state, isFetching: true });
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(this.#fetcher(controller.signal));
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (data) => this.#settle(controller, { data, error: null, status: 'success', updatedAt: this.#now() }),
      (error: unknown) => this.#settle(controller, { error, status: 'error' }),
    );
  }

  #settle(controller: AbortController, patch: Partial<LiveQueryState<T>>): void {
    // Stopped or superseded meanwhile: its result belongs to nobody.
    if (this.#controller !== controller) return;
    this.#controller = null;
    this.#lastSettledAt = this.#now();
    this.#setState({ ...this.#state, ...patch, isFetching: false });
    if (!this.#running) return;
    if (this.#followUp) {
      this.#followUp = false;
      this.#fetchNow();
    } else {
      this.#scheduleInterval();
    }
  }

  #scheduleInterval(): void {
    const interval = this.#connected ? this.#connectedIntervalMs : this.#disconnectedIntervalMs;
    const since = this.#lastSettledAt ?? this.#now();
    const delay = Math.max(0, since + interval - this.#now());
    this.#intervalTimer.set(delay, () => this.#request());
  }

  #setState(next: LiveQueryState<T>): void {
    this.#state = next;
    for (const listener of [...this.#listeners]) listener();
  }
}
