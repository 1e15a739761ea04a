import { describe, expect, it } from 'vitest';
import type { LiveEvent } from '../../src/protocol';
import { memoryBroker } from '../../src/server';
import { fakeEnv } from '../helpers/fake-env';

describe('memoryBroker', () => {
  it('numbers events 1, 2, 3… per channel under one epoch, and reads after an offset', async () => {
    const broker = memoryBroker();
    const a1 = await broker.append('a', 't', 1);
    const b1 = await broker.append('b', 't', 2);
    const a2 = await broker.append('a', 't', 3);
    expect([a1.offset, b1.offset, a2.offset]).toEqual([1, 1, 2]);
    expect(a2.epoch).toBe(a1.epoch);
    expect(b1.epoch).not.toBe(a1.epoch);
    const read = await broker.read('a', 1);
    expect(read).toMatchObject({ epoch: a1.epoch, head: 2, oldest: 1 });
    expect(read.events.map((e) => e.data)).toEqual([3]);
    expect((await broker.read('a', 0, 1)).events.map((e) => e.offset)).toEqual([1]);
    await broker.close();
  });

  it('keeps at most maxEventsPerChannel, oldest dropped first, offsets without holes', async () => {
    const broker = memoryBroker({ maxEventsPerChannel: 3 });
    for (let i = 1; i <= 100; i++) await broker.append('a', 't', i);
    const read = await broker.read('a', 0);
    expect(read).toMatchObject({ head: 100, oldest: 98 });
    expect(read.events.map((e) => e.offset)).toEqual([98, 99, 100]);
    expect(broker.stats().events).toBe(3);
    await broker.close();
  });

  it('expires events by age without a timer per channel', async () => {
    const env = fakeEnv();
    const broker = memoryBroker({ retentionMs: 1000, now: env.now, timers: env.timers });
    for (let c = 0; c < 50; c++) await broker.append(`c${c}`, 't', 'old');
    expect(env.pending()).toBe(1); // one sweep for 50 channels
    expect(env.created()).toBe(1);
    await env.jump(600);
    await broker.append('c0', 't', 'new');
    await env.jump(600);
    const read = await broker.read('c0', 0);
    expect(read.events.map((e) => e.data)).toEqual(['new']);
    expect(read).toMatchObject({ head: 2, oldest: 2 });
    const info = await broker.info('c1');
    expect(info).toMatchObject({ head: 1, oldest: 2 });
    expect(env.pending()).toBe(1); // the sweep ran once and waits for the next round
    await broker.close();
    expect(env.pending()).toBe(0);
  });

  it('feeds live listeners in order and stops when unsubscribed', async () => {
    const broker = memoryBroker();
    const seen: LiveEvent[] = [];
    const off = broker.subscribe('a', (e) => seen.push(e));
    await broker.append('a', 't', 1);
    await broker.append('a', 't', 2);
    off();
    await broker.append('a', 't', 3);
    expect(seen.map((e) => e.offset)).toEqual([1, 2]);
    expect(broker.stats().listeners).toBe(0);
    await broker.close();
    await expect(broker.append('a', 't', 4)).rejects.toMatchObject({ code: 'broker_unavailable' });
  });

  it('drops a channel untouched for idleTtlMs with no subscriber; a later read finds no log', async () => {
    // Each jump moves the clock and runs the sweep that fell due meanwhile, once.
    const env = fakeEnv();
    const broker = memoryBroker({ retentionMs: 1000, idleTtlMs: 5000, now: env.now, timers: env.timers });
    const first = await broker.append('gone', 't', 1);
    await broker.append('read', 't', 1);
    await broker.append('held', 't', 1);
    const off = broker.subscribe('held', () => {});
    await env.jump(4000);
    await broker.read('read', 0); // touched: idle from now
    expect(broker.stats().channels).toBe(3);

    await env.jump(1000); // 'gone' untouched for 5 s, 'read' for 1 s, 'held' subscribed
    expect(broker.stats().channels).toBe(2);
    const again = await broker.info('gone');
    expect(again.epoch).not.toBe(first.epoch); // a client coming back resyncs, never misreads
    expect(again.head).toBe(0);
    // Reading it created nothing.
    expect(broker.stats().channels).toBe(2);

    await env.jump(10_000); // everything idle for long: only the subscribed channel stays
    expect(broker.stats().channels).toBe(1);
    off(); // idle from now, and dropped once that is long enough
    await env.jump(5000);
    expect(broker.stats()).toEqual({ channels: 0, events: 0, listeners: 0 });
    await broker.close();
  });

  it('stops its sweep timer once no channel is left, and keeps channels forever with idleTtlMs 0', async () => {
    const env = fakeEnv();
    const dropping = memoryBroker({ idleTtlMs: 100, now: env.now, timers: env.timers });
    const keeping = memoryBroker({ idleTtlMs: 0, now: env.now, timers: env.timers });
    await dropping.append('a', 't', 1);
    await keeping.append('a', 't', 1);
    expect(env.pending()).toBe(2);
    await env.jump(1_000_000);
    expect(dropping.stats().channels).toBe(0);
    expect(keeping.stats().channels).toBe(1);
    expect(env.pending()).toBe(1); // the keeping broker's sweep only
    await dropping.append('b', 't', 1); // a new channel starts the sweep again
    expect(env.pending()).toBe(2);
    await dropping.close();
    await keeping.close();
    expect(env.pending()).toBe(0);
  });
});
