import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHub, memoryBroker } from '../../src/server';
import { countingTimers } from '../helpers/counting-timers';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { openRaw } from './sse-reader';

let server: HubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Waits until `check` holds; fails the test if it never does. */
const settle = (check: () => boolean) =>
  vi.waitFor(() => expect(check()).toBe(true), { timeout: 10_000, interval: 10 });

describe('cleanup', () => {
  it('1 000 connections opened and closed leave no connection, listener, response or timer behind', async () => {
    // One set of counted timers for the hub and its broker: every timer of the server side.
    const tracker = countingTimers();
    const timers = () => tracker.live();
    const broker = memoryBroker({ timers: tracker.timers });
    let closed = 0;
    server = await startHubServer(
      createHub({
        broker,
        // No beat fires during the test (each beat re-arms a timer): what is counted is what the
        // connections cost, and the shared heartbeat timer is still started and stopped.
        heartbeatMs: 60_000,
        timers: tracker.timers,
        metrics: { connectionClosed: () => closed++ },
      }),
    );
    const { hub, url } = server;
    await hub.publish('a', 'warm', 0);
    const startTimers = timers();
    const startStats = hub.stats();
    const startListeners = broker.stats().listeners;
    let peakTimers = 0;

    // 20 rounds of 50 concurrent streams, closed three different ways.
    for (let round = 0; round < 20; round++) {
      const streams = await Promise.all(
        Array.from({ length: 50 }, (_, i) => openRaw(`${url}/stream?channels=a,b${i % 5},c`)),
      );
      await Promise.all(streams.map((s) => s.next((e) => e.type === 'tandem:hello')));
      expect(hub.stats().connections).toBe(50);
      peakTimers = Math.max(peakTimers, timers());
      await hub.publish('a', 'x', round);
      if (round % 3 === 0) {
        for (const s of streams) s.close(); // the client leaves
      } else if (round % 3 === 1) {
        expect(hub.disconnect({ channel: 'a' })).toBe(50); // the server says bye
      } else {
        for (const s of streams) s.close();
        hub.disconnect({}); // both at once
      }
      await Promise.all(streams.map((s) => s.ended));
      await settle(() => hub.stats().connections === 0 && hub.stats().responses === 0);
    }
    await settle(() => hub.stats().heartbeat === false);

    expect(hub.stats()).toEqual(startStats);
    expect(hub.stats()).toMatchObject({
      connections: 0,
      channels: 0,
      subscribers: 0,
      responses: 0,
      heartbeat: false,
    });
    expect(broker.stats().listeners).toBe(startListeners);
    expect(timers()).toBe(startTimers);
    // 50 open streams needed just the shared heartbeat on top of what was there, and over
    // 1 000 connections the server created a handful of timers, not one per connection.
    expect(peakTimers - startTimers).toBe(1);
    expect(tracker.created()).toBeLessThan(25);
    expect(closed).toBe(1000);
    await broker.close();
  }, 60_000);

  it('long polls that end (event, timeout, abort) leave no waiter nor timer behind', async () => {
    const tracker = countingTimers();
    const timers = () => tracker.live();
    const broker = memoryBroker({ timers: tracker.timers });
    server = await startHubServer(createHub({ broker, timers: tracker.timers }));
    const { hub, url } = server;
    await broker.append('warm', 'x', 1); // the broker's one sweep timer (a log exists)
    const startTimers = timers();
    const polls = Array.from({ length: 30 }, (_, i) => {
      const controller = new AbortController();
      const done = fetch(`${url}/poll?channels=p${i % 3}&wait=${i % 2 ? 1 : 20}`, {
        signal: controller.signal,
      }).then(
        (r) => r.text(),
        () => 'aborted',
      );
      return { controller, done };
    });
    await settle(() => hub.stats().waiters === 30);
    expect(hub.stats().waiters).toBe(30);
    // One timer for all the deadlines.
    expect(timers() - startTimers).toBe(1);
    await hub.publish('p0', 'x', 1);
    for (const p of polls.slice(0, 10)) p.controller.abort();
    await Promise.all(polls.slice(0, 10).map((p) => p.done));
    // Ended by an event (p0), an abort (the first ten) or their 1 s deadline (odd ones): only
    // the 20 s polls on p1 and p2 from the eleventh on still wait.
    const lasting = polls.filter((_, i) => i >= 10 && i % 2 === 0 && i % 3 !== 0).length;
    await settle(() => hub.stats().waiters === lasting);
    await hub.publish('p1', 'x', 1);
    await hub.publish('p2', 'x', 1);
    await Promise.all(polls.map((p) => p.done));
    await settle(() => timers() === startTimers);
    expect(hub.stats()).toMatchObject({ waiters: 0, channels: 0 });
    expect(timers()).toBe(startTimers);
    await broker.close();
  });
});
