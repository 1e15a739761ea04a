import { describe, expect, it, vi } from 'vitest';
import type { PollResponse } from '../../src/protocol';
import { createHub, memoryBroker } from '../../src/server';
import { Gate } from '../../src/server/slices';
import { closedAfterEach } from './closed-after-each';
import { openRaw } from './sse-reader';

/**
 * What happened, in order: `slice` for each place the gate gave, `task` each time a macrotask
 * of the probe ran. The probe reschedules itself until `stop`.
 */
function recorder() {
  const log: string[] = [];
  let running = true;
  const probe = () => {
    log.push('task');
    if (running) setImmediate(probe);
  };
  setImmediate(probe);
  return {
    log,
    stop: () => {
      running = false;
    },
    /** The longest run of slices with no other task in between. */
    longestRun: () =>
      Math.max(
        ...log
          .join(' ')
          .split('task')
          .map((run) => run.trim().split(/\s+/).filter(Boolean).length),
      ),
  };
}

describe('replay turns (Gate)', () => {
  it('lets other tasks run after every two slices of time, however many replays wait', async () => {
    let clock = 0;
    const gate = new Gate(2, undefined, () => clock);
    const { log, stop, longestRun } = recorder();
    // 30 replays of 5 slices of 6 ms each; each hands its place on at once, in microtasks: the
    // old gate then ran all 150 slices in one task.
    await Promise.all(
      Array.from({ length: 30 }, async () => {
        for (let i = 0; i < 5; i++) {
          if (!gate.tryEnter()) await gate.wait();
          log.push('slice');
          clock += 6;
          gate.leave();
        }
      }),
    );
    stop();
    expect(log.filter((e) => e === 'slice')).toHaveLength(150);
    // 20 ms a turn: four slices of 6 ms; a turn may end between the probe's two tasks, so at
    // most eight in a row.
    expect(longestRun()).toBeLessThanOrEqual(8);
  });

  it('runs many short slices in one turn: time bounds a turn, not the number of slices', async () => {
    let clock = 0;
    const gate = new Gate(1, undefined, () => clock);
    for (let i = 0; i < 100; i++) {
      expect(gate.tryEnter()).toBe(true);
      clock += 0.05;
      gate.leave();
    }
    expect(gate.tryEnter()).toBe(true);
    clock += 10;
    gate.leave();
    // The turn's 10 ms are spent: the next place comes in a later task.
    expect(gate.tryEnter()).toBe(false);
  });

  it('gives at most `entries` places per turn, synchronously, then in order in later tasks', async () => {
    const gate = new Gate(Number.POSITIVE_INFINITY, 2);
    expect(gate.tryEnter()).toBe(true);
    gate.leave();
    expect(gate.tryEnter()).toBe(true);
    gate.leave();
    expect(gate.tryEnter()).toBe(false);
    const order: number[] = [];
    const waiting = [1, 2, 3].map((n) =>
      gate.wait().then(() => {
        order.push(n);
        gate.leave();
      }),
    );
    await Promise.all(waiting);
    expect(order).toEqual([1, 2, 3]);
    // A new turn: a place at once again.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(gate.tryEnter()).toBe(true);
    gate.leave();
  });
});

const { serve, streams } = closedAfterEach();

describe('a replay storm', () => {
  it('delivers every stream its whole backlog once, in order, in valid HTTP chunks', async () => {
    const COUNT = 2000;
    const hub = createHub({ broker: memoryBroker({ maxEventsPerChannel: COUNT }) });
    const served = await serve(hub);
    const start = (await (await fetch(`${served.url}/poll?channels=storm`)).json()) as PollResponse;
    const pad = 'é'.repeat(300) + 'x'.repeat(400);
    for (let n = 1; n <= COUNT; n++) await hub.publish('storm', 'blob', { n, pad });

    // 40 streams resume 2 000 events (about 2 MB each) behind at once: they start over several
    // turns and replay in turns, each chunk framed once from many shared frames.
    const opened = await Promise.all(
      Array.from({ length: 40 }, () =>
        openRaw(`${served.url}/stream?channels=storm`, { 'last-event-id': start.cursor }),
      ),
    );
    streams.push(...opened);
    await vi.waitFor(
      () => {
        for (const stream of opened) expect(stream.appCount).toBe(COUNT);
      },
      { timeout: 90_000, interval: 100 },
    );
    for (const stream of opened) {
      const events = stream.appEvents();
      expect(events.map((e) => (e.data as { n: number }).n)).toEqual(
        Array.from({ length: COUNT }, (_, i) => i + 1),
      );
      expect(events.every((e) => (e.data as { pad: string }).pad === pad)).toBe(true);
    }
    // Live again: the next event reaches all of them once.
    await hub.publish('storm', 'blob', { n: COUNT + 1, pad });
    await vi.waitFor(
      () => {
        for (const stream of opened) expect(stream.appCount).toBe(COUNT + 1);
      },
      { timeout: 10_000, interval: 50 },
    );
  }, 120_000);

  it('refuses opens past maxConnections even when they waited for their turn', async () => {
    const hub = createHub({ broker: memoryBroker(), maxConnections: 40 });
    const served = await serve(hub);
    // 100 opens at once: more than a turn starts, so most wait; only 40 may be held.
    const results = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const stream = await openRaw(`${served.url}/stream?channels=c`);
        streams.push(stream);
        return stream;
      }),
    );
    const statuses = results.map((s) => s.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(40);
    expect(statuses.filter((s) => s === 429)).toHaveLength(60);
    expect(hub.stats().connections).toBe(40);
  }, 60_000);
});
