import { defaultTimers, type Timers } from '../../src/protocol';

/**
 * Real timers that count what their owner does with them: how many are pending and how many
 * were ever set. Injected into a hub or a broker (`timers`), so a test sees exactly that
 * component's timers, unref'd ones included.
 */
export function countingTimers(inner: Timers = defaultTimers) {
  const pending = new Set<unknown>();
  let created = 0;
  const timers: Timers = {
    setTimeout(callback, ms) {
      created++;
      const handle = inner.setTimeout(() => {
        pending.delete(handle);
        callback();
      }, ms);
      pending.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      pending.delete(handle);
      inner.clearTimeout(handle);
    },
  };
  return { timers, live: () => pending.size, created: () => created };
}
