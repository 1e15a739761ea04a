import type { Timers } from '../../src/protocol';

/** Timers the test fires by hand: it sees how many wait, and runs them when it says so. */
export function manualTimers() {
  const pending = new Map<number, () => void>();
  let seq = 0;
  let created = 0;
  const timers: Timers = {
    setTimeout(callback) {
      const id = ++seq;
      created++;
      pending.set(id, callback);
      return id;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
  };
  return {
    timers,
    /** Timers set and not yet fired or cleared. */
    live: () => pending.size,
    created: () => created,
    /** Fires every timer waiting now (those they set wait for the next call). */
    fire() {
      const due = [...pending.values()];
      pending.clear();
      for (const callback of due) callback();
    },
  };
}
