import { TimerSlot } from '../protocol';
import type { ServerEnvironment } from './environment';

/** What the expiry queue needs of a stream. */
interface Expiring {
  readonly expiresAt: number;
  isClosed(): boolean;
}

/** setTimeout's longest delay; a later expiry re-arms when it fires. */
const MAX_DELAY_MS = 2_147_483_647;

/**
 * Token expiries of open streams, on one timer armed for the earliest: a stream ends at its
 * token's expiry, not at the next heartbeat. A binary heap ordered by `expiresAt`; a stream that
 * closes first is left in it and skipped when reached, and the heap is rebuilt without such
 * streams once they outnumber the open ones, so churn cannot grow it.
 */
export class Expiries<T extends Expiring> {
  private heap: T[] = [];
  private open = 0;
  private readonly timer: TimerSlot;
  private armedAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly env: ServerEnvironment,
    private readonly expire: (item: T) => void,
  ) {
    this.timer = new TimerSlot(env.timers);
  }

  /** Streams in the heap, closed ones included (for tests). */
  get size(): number {
    return this.heap.length;
  }

  add(item: T): void {
    if (!Number.isFinite(item.expiresAt)) return;
    this.open++;
    this.push(item);
    if (item.expiresAt < this.armedAt) this.arm();
  }

  /** A stream that `add` took has closed. */
  closed(item: T): void {
    if (!Number.isFinite(item.expiresAt)) return;
    this.open--;
    if (this.open === 0) {
      // Nothing left to expire: no timer either.
      this.heap = [];
      this.stop();
    } else if (this.heap.length > 2 * this.open + 64) {
      this.rebuild();
    }
  }

  stop(): void {
    this.timer.clear();
    this.armedAt = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    this.stop();
    const first = this.heap[0];
    if (!first) return;
    this.armedAt = first.expiresAt;
    this.timer.set(Math.min(MAX_DELAY_MS, Math.max(0, first.expiresAt - this.env.now())), () => this.run());
  }

  private run(): void {
    this.armedAt = Number.POSITIVE_INFINITY;
    const now = this.env.now();
    while (this.heap.length > 0 && this.heap[0]!.expiresAt <= now) {
      const item = this.pop();
      // `expire` closes it, and `closed` counts it out.
      if (!item.isClosed()) this.expire(item);
    }
    this.arm();
  }

  private rebuild(): void {
    this.heap = this.heap.filter((item) => !item.isClosed());
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
    this.arm();
  }

  private push(item: T): void {
    const { heap } = this;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.expiresAt <= item.expiresAt) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  }

  private pop(): T {
    const { heap } = this;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private down(start: number): void {
    const { heap } = this;
    const item = heap[start]!;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1]!.expiresAt < heap[child]!.expiresAt) child++;
      if (heap[child]!.expiresAt >= item.expiresAt) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = item;
  }
}
