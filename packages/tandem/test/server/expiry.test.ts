import { beforeEach, describe, expect, it } from 'vitest';
import { Expiries } from '../../src/server/expiry';
import { type FakeEnv, fakeEnv } from '../helpers/fake-env';

/** The tests' fake clock and timers, injected as the hub would inject its own. */
let env: FakeEnv;

class Item {
  closed = false;
  constructor(
    readonly id: number,
    readonly expiresAt: number,
  ) {}
  isClosed() {
    return this.closed;
  }
}

beforeEach(() => {
  env = fakeEnv(0);
});

describe('Expiries', () => {
  it('expires each open item at its own time, in order, on one timer', async () => {
    const expired: number[] = [];
    const queue = new Expiries<Item>(env, (item) => {
      expired.push(item.id);
      item.closed = true;
      queue.closed(item);
    });
    const times = [500, 120, 900, 120, 40, 3000, 700];
    const items = times.map((at, id) => new Item(id, at));
    for (const item of items) queue.add(item);
    queue.add(new Item(99, Number.POSITIVE_INFINITY)); // never expires, never kept
    expect(env.pending()).toBe(1);
    // Item 2 closes by itself before its time.
    items[2]!.closed = true;
    queue.closed(items[2]!);

    await env.advance(39);
    expect(expired).toEqual([]);
    await env.advance(1);
    expect(expired).toEqual([4]);
    await env.advance(80);
    expect(expired).toEqual([4, 1, 3]);
    await env.advance(2880);
    expect(expired).toEqual([4, 1, 3, 0, 6, 5]);
    expect(env.pending()).toBe(0);
  });

  it('an earlier item re-arms the timer', async () => {
    const expired: number[] = [];
    const queue = new Expiries<Item>(env, (item) => expired.push(item.id));
    queue.add(new Item(1, 10_000));
    queue.add(new Item(2, 50));
    await env.advance(50);
    expect(expired).toEqual([2]);
  });

  it('stays bounded under churn, and keeps no timer once every item closed', () => {
    const queue = new Expiries<Item>(env, () => {
      throw new Error('nothing should expire');
    });
    const open: Item[] = [];
    for (let i = 0; i < 10_000; i++) {
      const item = new Item(i, 60_000 + (i % 977));
      queue.add(item);
      open.push(item);
      if (open.length > 20) {
        const gone = open.splice(i % open.length, 1)[0]!;
        gone.closed = true;
        queue.closed(gone);
      }
      expect(queue.size).toBeLessThanOrEqual(2 * open.length + 64 + 1);
    }
    for (const item of open) {
      item.closed = true;
      queue.closed(item);
    }
    expect(queue.size).toBe(0);
    expect(env.pending()).toBe(0);
  });
});
