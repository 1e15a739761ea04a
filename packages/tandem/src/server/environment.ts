import { defaultTimers, type Timers, unrefTimers } from '../protocol';

/**
 * The server's clock and timers: the platform's by default, injectable so that tests drive
 * time (`createHub({ now, timers })`). The default timers are unref'd: the hub's housekeeping
 * never keeps a Node process alive by itself.
 */
export interface ServerEnvironment {
  now: () => number;
  timers: Timers;
}

export function resolveServerEnvironment(options: {
  now?: () => number;
  timers?: Timers;
}): ServerEnvironment {
  return { now: options.now ?? Date.now, timers: options.timers ?? unrefTimers(defaultTimers) };
}
