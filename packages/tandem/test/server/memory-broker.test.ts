import { describe, expect, it } from 'vitest';
import type { LiveEvent } from '../../src/protocol';
import { memoryBroker } from '../../src/server';

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
    let now = 1_000_000;
    const broker = memoryBroker({ retentionMs: 1000, now: () => now });
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    for (let c = 0; c < 50; c++) await broker.append(`c${c}`, 't', 'old');
    now += 600;
    await broker.append('c0', 't', 'new');
    now += 600;
    const read = await broker.read('c0', 0);
    expect(read.events.map((e) => e.data)).toEqual(['new']);
    expect(read).toMatchObject({ head: 2, oldest: 2 });
    const info = await broker.info('c1');
    expect(info).toMatchObject({ head: 1, oldest: 2 });
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(after - before).toBeLessThanOrEqual(1);
    await broker.close();
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
});
