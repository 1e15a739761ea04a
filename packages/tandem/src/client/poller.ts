import { TimerSlot } from '../protocol';
import type { Environment } from './environment';
import { nextPollDelay, type ResolvedPollOptions } from './poll-schedule';
import { singleFlight } from './single-flight';

export interface Poller {
  start(): void;
  stop(): void;
  /** Re-plans the next poll (the stream opened or dropped). */
  reschedule(): void;
  /** Polls at once (or right after the poll in flight); resolves when done. */
  pollNow(): Promise<void>;
  readonly inFlight: boolean;
}

/**
 * Runs `poll` on the schedule of `nextPollDelay`, one request at a time, and at once when the
 * network comes back or the page becomes visible; not at all while offline. `poll` resolves with the earliest time the
 * server allows the next poll (`Retry-After`), or nothing.
 */
export function createPoller(
  env: Environment,
  options: ResolvedPollOptions,
  isStreamOpen: () => boolean,
  poll: () => Promise<number | undefined>,
  onBusyChange: () => void,
): Poller {
  let running = false;
  const timer = new TimerSlot(env.timers);
  let lastPollAt = 0;
  let notBefore = 0;
  let inFlight: Promise<void> | null = null;
  const unsubscribe: Array<() => void> = [];

  function schedule(): void {
    timer.clear();
    // Offline: no futile polls; the `online` event polls at once.
    if (!running || inFlight || !env.online.get()) return;
    const delay = nextPollDelay(
      {
        now: env.now(),
        lastPollAt,
        streamOpen: isStreamOpen(),
        hidden: env.hidden.get(),
        notBefore,
        random: env.random,
      },
      options,
    );
    if (delay === null) return;
    timer.set(delay, () => void next());
  }

  function run(): Promise<void> {
    timer.clear();
    if (!running) return Promise.resolve();
    lastPollAt = env.now();
    const current = poll()
      .then(
        (after) => {
          notBefore = after ?? 0;
        },
        () => {},
      )
      .finally(() => {
        inFlight = null;
        onBusyChange();
        schedule();
      });
    inFlight = current;
    onBusyChange();
    return current;
  }
  /** Every poll goes through here: one at a time, and one more for the calls during it. */
  const next = singleFlight(run);

  return {
    start() {
      if (running || !options.enabled) return;
      running = true;
      lastPollAt = env.now();
      unsubscribe.push(
        env.online.subscribe((online) => {
          if (online) void this.pollNow();
          else schedule();
        }),
        env.hidden.subscribe((hidden) => {
          if (!hidden) void this.pollNow();
          else schedule();
        }),
      );
      schedule();
    },
    stop() {
      running = false;
      timer.clear();
      for (const off of unsubscribe.splice(0)) off();
    },
    reschedule: schedule,
    pollNow() {
      return running ? next() : Promise.resolve();
    },
    get inFlight() {
      return inFlight !== null;
    },
  };
}
