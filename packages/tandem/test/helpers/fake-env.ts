import type { Environment, Signal, Timers } from '../../src/client/environment';

/** A controllable signal (page visibility, network status). */
export interface FakeSignal extends Signal {
  set(value: boolean): void;
}

export function fakeSignal(initial: boolean): FakeSignal {
  let value = initial;
  const listeners = new Set<(value: boolean) => void>();
  return {
    get: () => value,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    set(next) {
      if (next === value) return;
      value = next;
      for (const listener of [...listeners]) listener(value);
    },
  };
}

interface Scheduled {
  id: number;
  at: number;
  callback: () => void;
}

/**
 * A manual clock and timer queue. `advance` walks time forward timer by timer, as a healthy
 * event loop would; `jump` moves time at once and only then runs what is due, as after a
 * suspended loop (throttled tab, sleeping laptop), so those timers fire late.
 */
export interface FakeEnv extends Environment {
  hidden: FakeSignal;
  online: FakeSignal;
  frozen: FakeSignal;
  advance(ms: number): Promise<void>;
  jump(ms: number): Promise<void>;
  /** Timers set and not yet fired or cleared. */
  pending(): number;
  /** Timers ever set. */
  created(): number;
}

/** Lets promise chains (fetch mocks, awaited tokens) settle. */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

export function fakeEnv(start = 1_000_000, random: () => number = Math.random): FakeEnv {
  let now = start;
  let nextId = 1;
  let created = 0;
  const queue: Scheduled[] = [];
  const timers: Timers = {
    setTimeout(callback, ms) {
      created++;
      const entry = { id: nextId++, at: now + Math.max(0, ms), callback };
      queue.push(entry);
      return entry.id;
    },
    clearTimeout(handle) {
      const index = queue.findIndex((entry) => entry.id === handle);
      if (index >= 0) queue.splice(index, 1);
    },
  };
  const takeDue = (limit: number): Scheduled | undefined => {
    let best: Scheduled | undefined;
    for (const entry of queue) {
      if (
        entry.at <= limit &&
        (!best || entry.at < best.at || (entry.at === best.at && entry.id < best.id))
      ) {
        best = entry;
      }
    }
    if (best) queue.splice(queue.indexOf(best), 1);
    return best;
  };
  return {
    now: () => now,
    timers,
    random,
    hidden: fakeSignal(false),
    online: fakeSignal(true),
    frozen: fakeSignal(false),
    async advance(ms) {
      const end = now + ms;
      await flush();
      for (let entry = takeDue(end); entry; entry = takeDue(end)) {
        now = Math.max(now, entry.at);
        entry.callback();
        await flush();
      }
      now = end;
      await flush();
    },
    async jump(ms) {
      now += ms;
      await flush();
      for (let entry = takeDue(now); entry; entry = takeDue(now)) {
        entry.callback();
        await flush();
      }
    },
    pending: () => queue.length,
    created: () => created,
  };
}

/** A small seeded PRNG (mulberry32), so random spreads are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
