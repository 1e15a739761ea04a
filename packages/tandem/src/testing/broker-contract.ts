import type { Broker } from '../broker';
import { isEmptyEpoch, isValidEpoch, type LiveEvent } from '../protocol';
import { brokerLossContract } from './broker-loss';
import type { BrokerContractSettings, BrokerUnderTest } from './broker-under-test';
import { type ContractTestApi, eventually, freshChannel, waitForCount } from './test-api';

/**
 * Registers the `Broker` contract as tests, with the caller's test framework: every promise the
 * hub relies on (offsets, reads, retention, the live feed, idempotency, empty epochs, loss).
 * Tandem runs it against its memory, Redis and PostgreSQL brokers; run it against yours:
 *
 * ```ts
 * brokerContract({ describe, it, afterEach, expect }, { name: 'myBroker', open: async (s) => myBroker(s) });
 * ```
 */
export function brokerContract<B extends Broker>(test: ContractTestApi, subject: BrokerUnderTest<B>): void {
  const { describe, it, afterEach, expect } = test;
  const fresh = freshChannel;
  describe(`${subject.name} keeps the Broker contract`, () => {
    const opened: Broker[] = [];
    const open = async (settings: BrokerContractSettings = {}): Promise<B> => {
      const broker = await subject.open(settings);
      opened.push(broker);
      return broker;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((b) => b.close()));
    });

    it('reads a channel with no log as empty, under an empty epoch, and creates nothing', async () => {
      const broker = await open();
      const channel = fresh('info');
      const first = await broker.info(channel);
      expect(isValidEpoch(first.epoch)).toBe(true);
      expect(isEmptyEpoch(first.epoch)).toBe(true);
      expect(first).toMatchObject({ head: 0, oldest: 1 });
      expect(await broker.read(channel, 0)).toMatchObject({ head: 0, oldest: 1, events: [] });
      // The first publish creates the log, which continues what was seen empty.
      const event = await broker.append(channel, 't', 1);
      expect(isEmptyEpoch(event.epoch)).toBe(false);
      const info = await broker.info(channel);
      expect(info).toMatchObject({ epoch: event.epoch, head: 1, oldest: 1 });
      // `continues` is optional: without it, a client that saw the channel empty resyncs.
      if (!broker.continues) return;
      expect(broker.continues(first.epoch, info)).toBe(true);
      // Not an empty epoch of another broker, nor one seen a day before the log (idle TTL).
      expect(broker.continues(`zzzz${first.epoch.slice(4)}`, info)).toBe(false);
      expect(broker.continues(first.epoch, { ...info, created: (info.created ?? 0) + 86_400_000 })).toBe(
        false,
      );
    });

    it('assigns offsets 1, 2, 3… per channel in the epoch of its log', async () => {
      const broker = await open();
      const a = fresh('a');
      const b = fresh('b');
      const e1 = await broker.append(a, 'order:created', { id: 1 });
      const { epoch } = e1;
      const e2 = await broker.append(a, 'order:created', { id: 2 });
      const f1 = await broker.append(b, 'x', null);
      expect(e1).toMatchObject({ channel: a, type: 'order:created', data: { id: 1 }, offset: 1 });
      expect(e2.offset).toBe(2);
      expect(f1.offset).toBe(1);
      expect(Math.abs(e1.ts - Date.now())).toBeLessThan(60_000);
      expect(e2.ts).toBeGreaterThanOrEqual(e1.ts);
      expect(await broker.info(a)).toMatchObject({ epoch, head: 2, oldest: 1 });
    });

    it('gives concurrent appends distinct contiguous offsets', async () => {
      const broker = await open();
      const channel = fresh('concurrent');
      const events = await Promise.all(Array.from({ length: 50 }, (_, i) => broker.append(channel, 't', i)));
      expect(events.map((e) => e.offset).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      const read = await broker.read(channel, 0);
      expect(read.events.map((e) => e.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      const dataByOffset = new Map(events.map((e) => [e.offset, e.data]));
      for (const e of read.events) expect(e.data).toBe(dataByOffset.get(e.offset));
    });

    it('reads the events after an offset, in order, up to a limit', async () => {
      const broker = await open();
      const channel = fresh('read');
      for (let i = 1; i <= 5; i++) await broker.append(channel, `t${i}`, { i });
      const all = await broker.read(channel, 0);
      expect(all.events.map((e) => e.offset)).toEqual([1, 2, 3, 4, 5]);
      expect(all).toMatchObject({ head: 5, oldest: 1 });
      const tail = await broker.read(channel, 3);
      expect(tail.events.map((e) => [e.offset, e.type, e.data])).toEqual([
        [4, 't4', { i: 4 }],
        [5, 't5', { i: 5 }],
      ]);
      expect((await broker.read(channel, 1, 2)).events.map((e) => e.offset)).toEqual([2, 3]);
      expect((await broker.read(channel, 5)).events).toEqual([]);
      expect(all.events[0]).toEqual({
        channel,
        type: 't1',
        data: { i: 1 },
        offset: 1,
        epoch: all.epoch,
        ts: all.events[0]?.ts,
      });
    });

    it('stores data as JSON unchanged: nesting, unicode, line breaks', async () => {
      const broker = await open();
      const channel = fresh('json');
      const data = {
        text: 'line 1\nline 2\r\n',
        emoji: 'ünïcödé 🚀',
        list: [1, null, { deep: true }],
        n: -0.5,
      };
      await broker.append(channel, 't', data);
      const [stored] = (await broker.read(channel, 0)).events;
      expect(stored?.data).toEqual(data);
    });

    it('keeps at most maxEventsPerChannel events and reports the oldest retained', async () => {
      const broker = await open({ maxEventsPerChannel: 3 });
      const channel = fresh('count');
      for (let i = 1; i <= 7; i++) await broker.append(channel, 't', i);
      const read = await broker.read(channel, 0);
      expect(read).toMatchObject({ head: 7, oldest: 5 });
      expect(read.events.map((e) => e.offset)).toEqual([5, 6, 7]);
      expect((await broker.read(channel, 5)).events.map((e) => e.offset)).toEqual([6, 7]);
    });

    it('forgets events older than retentionMs but keeps the head and epoch', async () => {
      const broker = await open({ retentionMs: 800 });
      const channel = fresh('age');
      const { epoch } = await broker.append(channel, 't', 1);
      await broker.append(channel, 't', 2);
      // Both age out 800 ms after their append.
      await eventually(async () =>
        expect(await broker.info(channel)).toMatchObject({ epoch, head: 2, oldest: 3 }),
      );
      expect((await broker.read(channel, 0)).events).toEqual([]);
      const next = await broker.append(channel, 't', 3);
      expect(next).toMatchObject({ offset: 3, epoch });
      // Event 3 may itself expire on a stalled machine; events 1 and 2 never come back.
      expect((await broker.info(channel)).oldest).toBeGreaterThanOrEqual(3);
    });

    it('feeds appended events to every live listener, in order, until unsubscribed', async () => {
      const broker = await open();
      const channel = fresh('live');
      const seen1: LiveEvent[] = [];
      const seen2: LiveEvent[] = [];
      const off1 = broker.subscribe(channel, (e) => seen1.push(e));
      const off2 = broker.subscribe(channel, (e) => seen2.push(e));
      for (let i = 1; i <= 20; i++) await broker.append(channel, 't', i);
      await waitForCount(seen1, 20);
      await waitForCount(seen2, 20);
      expect(seen1.map((e) => e.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(seen2.map((e) => e.data)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(seen1[0]).toMatchObject({ channel, type: 't', epoch: (await broker.info(channel)).epoch });
      off1();
      await broker.append(channel, 't', 21);
      await waitForCount(seen2, 21);
      expect(seen1).toHaveLength(20);
      off2();
    });

    it('delivers every event appended after subscribe, even concurrent ones, without holes', async () => {
      const broker = await open();
      const channel = fresh('burst');
      await broker.append(channel, 't', 0);
      const seen: number[] = [];
      const off = broker.subscribe(channel, (e) => seen.push(e.offset));
      // Not awaited in between: the subscription must already cover these.
      await Promise.all(Array.from({ length: 30 }, (_, i) => broker.append(channel, 't', i + 1)));
      await eventually(() => expect(seen.at(-1)).toBe(31));
      // Event 1 may be delivered too: with Redis its notification can still be on its way when
      // `subscribe` is called. Whatever comes must be contiguous and reach 31.
      const first = seen[0] ?? 2;
      expect(first).toBeLessThanOrEqual(2);
      expect(seen).toEqual(Array.from({ length: 32 - first }, (_, i) => i + first));
      off();
    });

    it('treats one function subscribed twice as two subscriptions', async () => {
      const broker = await open();
      const channel = fresh('twice');
      const seen: number[] = [];
      const listener = (e: LiveEvent) => seen.push(e.offset);
      const offA = broker.subscribe(channel, listener);
      const offB = broker.subscribe(channel, listener);
      await broker.append(channel, 't', 1);
      await waitForCount(seen, 2);
      offA();
      await broker.append(channel, 't', 2);
      await waitForCount(seen, 3);
      expect(seen).toEqual([1, 1, 2]);
      offB();
    });

    it('appends a repeated idempotency key once, answers every repeat with the first event and delivers nothing new', async () => {
      const broker = await open();
      const channel = fresh('idempotent');
      const seen: LiveEvent[] = [];
      const off = broker.subscribe(channel, (e) => seen.push(e));
      const key = { idempotencyKey: 'order-7/created' };
      const first = await broker.append(channel, 'order:created', { id: 7 }, undefined, key);
      // A retry, even with other data, is the same publish: the first one's stored event.
      const repeat = await broker.append(channel, 'order:created', { id: 7, retried: true }, undefined, key);
      const racing = await Promise.all(
        Array.from({ length: 20 }, () => broker.append(channel, 'order:created', { id: 7 }, undefined, key)),
      );
      expect(repeat).toEqual(first);
      for (const event of racing) expect(event).toEqual(first);
      // Another key, no key, and the same key on another channel are new events.
      const other = await broker.append(channel, 'order:created', { id: 8 }, undefined, {
        idempotencyKey: 'order-8',
      });
      const plain = await broker.append(channel, 'order:created', { id: 9 });
      const elsewhere = await broker.append(fresh('idempotent-other'), 't', 1, undefined, key);
      expect([other.offset, plain.offset, elsewhere.offset]).toEqual([2, 3, 1]);
      expect((await broker.read(channel, 0)).events.map((e) => e.data)).toEqual([
        { id: 7 },
        { id: 8 },
        { id: 9 },
      ]);
      // The listener saw each event once: the repeats delivered nothing.
      await eventually(() => expect(seen.map((e) => e.offset)).toEqual([1, 2, 3]));
      off();
    });

    it('appends an idempotency key anew once its window has passed', async () => {
      const broker = await open({ idempotencyWindowMs: 300 });
      const channel = fresh('window');
      const key = { idempotencyKey: 'k' };
      expect((await broker.append(channel, 't', 'a', undefined, key)).offset).toBe(1);
      // Each try within the window is a repeat (offset 1, nothing appended); the first after it
      // appends event 2.
      await eventually(async () =>
        expect((await broker.append(channel, 't', 'b', undefined, key)).offset).toBe(2),
      );
      expect((await broker.read(channel, 0)).events.map((e) => e.data)).toEqual(['a', 'b']);
    });

    it('refuses an idempotency key that is empty or longer than 200 characters', async () => {
      const broker = await open();
      for (const idempotencyKey of ['', 'k'.repeat(201)]) {
        await expect(
          broker.append(fresh('bad-key'), 't', 1, undefined, { idempotencyKey }),
        ).rejects.toMatchObject({
          code: 'bad_request',
        });
      }
      expect(
        (await broker.append(fresh('long-key'), 't', 1, undefined, { idempotencyKey: 'k'.repeat(200) }))
          .offset,
      ).toBe(1);
    });

    it('keeps feeding the others when one listener throws', async () => {
      const broker = await open();
      const channel = fresh('throws');
      const seen: number[] = [];
      const offBad = broker.subscribe(channel, () => {
        throw new Error('listener bug');
      });
      const off = broker.subscribe(channel, (e) => seen.push(e.offset));
      await broker.append(channel, 't', 1);
      await broker.append(channel, 't', 2);
      await waitForCount(seen, 2);
      expect(seen).toEqual([1, 2]);
      offBad();
      off();
    });
    brokerLossContract(test, subject, open);
  });
}
