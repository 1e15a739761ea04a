import { describe, expect, it, vi } from 'vitest';
import { type FeedSource, LiveFeed, type ReadResult } from '../../src/broker';
import type { LiveEvent } from '../../src/protocol';

/** A log in memory standing in for the broker's store, with switches to make it fail or lose itself. */
class FakeLog implements FeedSource {
  epoch = 'e1';
  events: LiveEvent[] = [];
  exists = true;
  down = false;
  reads = 0;
  /** Calls of `position()` or `read()` answered while the log was up. */
  answered = 0;

  append(channel = 'c'): LiveEvent {
    const event: LiveEvent = {
      channel,
      type: 't',
      data: this.events.length,
      offset: this.events.length + 1,
      epoch: this.epoch,
      ts: 0,
    };
    this.events.push(event);
    this.exists = true;
    return event;
  }

  lose(epoch: string): void {
    this.epoch = epoch;
    this.events = [];
  }

  async position(): Promise<{ epoch: string | undefined; head: number }> {
    if (this.down) throw new Error('down');
    this.answered++;
    return this.exists ? { epoch: this.epoch, head: this.events.length } : { epoch: undefined, head: 0 };
  }

  async rewound(_channel: string, epoch: string, last: number): Promise<void> {
    if (epoch === this.epoch && this.events.length < last) this.lose(`${epoch}r`);
  }

  async read(_channel: string, after: number, epoch: string | undefined): Promise<ReadResult> {
    this.reads++;
    if (this.down) throw new Error('down');
    this.answered++;
    const from = epoch !== undefined && epoch !== this.epoch ? 0 : after;
    return {
      epoch: this.epoch,
      head: this.events.length,
      oldest: 1,
      events: this.events.filter((e) => e.offset > from),
    };
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await tick();
}

function setup(prefill = 0) {
  const log = new FakeLog();
  for (let i = 0; i < prefill; i++) log.append();
  const feed = new LiveFeed(log, { retryMs: 5 });
  const seen: LiveEvent[] = [];
  const off = feed.subscribe('c', (e) => seen.push(e));
  return { log, feed, seen, off, offsets: () => seen.map((e) => `${e.epoch}:${e.offset}`) };
}

describe('LiveFeed', () => {
  it('delivers in-order notifications without reading the log', async () => {
    const { log, feed, offsets } = setup(2);
    await settle();
    feed.notify(log.append());
    feed.notify(log.append());
    expect(offsets()).toEqual(['e1:3', 'e1:4']);
    expect(log.reads).toBe(0);
  });

  it('drops duplicates and anything at or below what it delivered', async () => {
    const { log, feed, offsets } = setup(2);
    await settle();
    const e3 = log.append();
    feed.notify(e3);
    feed.notify(log.events[0]!);
    feed.notify(e3);
    await settle();
    expect(offsets()).toEqual(['e1:3']);
  });

  it('still delivers a notification below its baseline when it is the first to arrive', async () => {
    // Published through another connection just before the baseline was taken, but after
    // subscribe was called: a listener expects it, and the hub drops it if already replayed.
    const { log, feed, offsets } = setup(3);
    await settle();
    feed.notify(log.events[2]!);
    feed.notify(log.append());
    await settle();
    expect(offsets()).toEqual(['e1:3', 'e1:4']);
    expect(log.reads).toBe(0);
  });

  it('repairs a hole from the log before delivering past it', async () => {
    const { log, feed, offsets } = setup(1);
    await settle();
    log.append(); // 2: its notification is lost
    log.append(); // 3: lost too
    feed.notify(log.append());
    const e5 = log.append();
    feed.notify(e5);
    await settle();
    expect(offsets()).toEqual(['e1:2', 'e1:3', 'e1:4', 'e1:5']);
  });

  it('reads from the log an event whose notification carried only its position, in order with whole ones', async () => {
    const { log, feed, seen, offsets } = setup(1);
    await settle();
    const large = log.append();
    feed.notifyPosition('c', large.epoch, large.offset);
    feed.notify(log.append());
    await settle();
    expect(offsets()).toEqual(['e1:2', 'e1:3']);
    expect(seen[0]!.data).toBe(1);
    expect(log.reads).toBe(1);
  });

  it('reads a new log whose first notification carried only a position', async () => {
    const { log, feed, seen, offsets } = setup(2);
    await settle();
    log.lose('e2');
    const first = log.append();
    feed.notifyPosition('c', first.epoch, first.offset);
    await settle();
    expect(offsets()).toEqual(['e2:1']);
    expect(seen[0]!.data).toBe(0);
  });

  it('queues notifications that arrive before the subscription knows its position', async () => {
    const { log, feed, offsets } = setup(3);
    // Not settled: the answer to the position query (head 3, taken at subscribe) is pending.
    feed.notify(log.append());
    feed.notify(log.append());
    expect(offsets()).toEqual([]);
    await settle();
    expect(offsets()).toEqual(['e1:4', 'e1:5']);
    expect(log.reads).toBe(0);
  });

  it('catches up on everything after a pub/sub reconnect', async () => {
    const { log, feed, offsets } = setup();
    await settle();
    feed.notify(log.append());
    log.append();
    log.append(); // published while the subscriber was away
    feed.repairAll();
    await settle();
    expect(offsets()).toEqual(['e1:1', 'e1:2', 'e1:3']);
  });

  it('retries a repair until the log can be read again, then delivers in order', async () => {
    const { log, feed, offsets } = setup();
    await settle();
    log.down = true;
    log.append();
    feed.notify(log.append());
    await settle();
    expect(offsets()).toEqual([]);
    feed.notify(log.append());
    log.down = false;
    // The feed retries every 5 ms (its retryMs) until the log answers.
    await vi.waitFor(() => expect(offsets()).toEqual(['e1:1', 'e1:2', 'e1:3']), { timeout: 10_000 });
  });

  it('delivers a new log from its first event when the epoch changes', async () => {
    const { log, feed, offsets } = setup(2);
    await settle();
    log.lose('e2');
    feed.notify(log.append());
    feed.notify(log.append());
    await settle();
    expect(offsets()).toEqual(['e2:1', 'e2:2']);
  });

  it('reads the start of a new log when its first notifications were missed', async () => {
    const { log, feed, offsets } = setup(2);
    await settle();
    log.lose('e2');
    log.append();
    feed.notify(log.append());
    await settle();
    expect(offsets()).toEqual(['e2:1', 'e2:2']);
  });

  it('drops late notifications of a log it has moved away from', async () => {
    const { log, feed, offsets } = setup(1);
    await settle();
    const old = log.append();
    log.lose('e2');
    feed.notify(log.append());
    feed.notify(old);
    feed.notify(log.append());
    await settle();
    expect(offsets()).toEqual(['e2:1', 'e2:2']);
  });

  it('starts from the log it finds when the channel did not exist at subscribe', async () => {
    const log = new FakeLog();
    log.exists = false;
    const feed = new LiveFeed(log);
    const seen: number[] = [];
    feed.subscribe('c', (e) => seen.push(e.offset));
    await settle();
    log.append();
    feed.notify(log.append());
    await settle();
    expect(seen).toEqual([1, 2]);
  });

  it('takes the head as its position when the position could not be read at subscribe', async () => {
    const log = new FakeLog();
    log.down = true;
    log.append();
    const feed = new LiveFeed(log, { retryMs: 5 });
    const seen: number[] = [];
    feed.subscribe('c', (e) => seen.push(e.offset));
    await settle();
    log.down = false;
    // The feed retries every 5 ms (its retryMs) until the log answers.
    await vi.waitFor(() => expect(log.answered).toBeGreaterThan(0), { timeout: 10_000 });
    await settle();
    feed.notify(log.append());
    await settle();
    expect(seen).toEqual([2]);
  });

  it('retires a log that went back in time, so its reused offsets come with a new epoch', async () => {
    const { log, feed, offsets } = setup(3);
    await settle();
    feed.notify(log.append()); // 4 delivered
    log.events.splice(2); // a restart from an older copy: head 2, same epoch
    feed.repairAll();
    await settle();
    expect(log.epoch).toBe('e1r');
    feed.notify(log.append());
    await settle();
    expect(offsets()).toEqual(['e1:4', 'e1r:1']);
  });

  it('tells when the log is ahead of what it delivered, and repairs it on request', async () => {
    const { log, feed, offsets } = setup(1);
    await settle();
    log.append(); // 2 and 3: their notifications are lost, and no later event shows the hole
    log.append();
    expect(feed.behind('c', 'e1', 1)).toBe(false);
    expect(feed.behind('c', 'e1', 3)).toBe(true);
    expect(log.reads).toBe(0);
    expect(feed.behind('c', 'e1', 3, true)).toBe(true);
    await settle();
    expect(offsets()).toEqual(['e1:2', 'e1:3']);
    expect(feed.behind('c', 'e1', 3)).toBe(false);
    // A new log: behind once it has an event; an empty one (created by a read) has none to miss.
    expect(feed.behind('c', 'e2', 0)).toBe(false);
    expect(feed.behind('c', 'e2', 1)).toBe(true);
    expect(feed.behind('other', 'e1', 9)).toBe(false);
    expect(feed.channels()).toEqual(['c']);
  });

  it('stops delivering after unsubscribe and forgets the channel', async () => {
    const { log, feed, seen, off } = setup();
    await settle();
    off();
    feed.notify(log.append());
    await settle();
    expect(seen).toEqual([]);
    expect(feed.has('c')).toBe(false);
  });
});
