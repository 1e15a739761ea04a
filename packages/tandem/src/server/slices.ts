/**
 * Long work in slices: a large replay, or thousands of long polls woken by one event, must not
 * hold the event loop in one task, or every other client of the process waits (a replay storm
 * froze it for seconds). Work that may grow with the load yields between slices of about
 * `SLICE_MS`.
 */

/** How long one task may work before it lets the event loop run, in ms. */
export const SLICE_MS = 10;

/** Runs `fn` in a later macrotask, after pending I/O. */
export const defer: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => setImmediate(fn) : (fn) => setTimeout(fn, 0);

/** Resolves in a later macrotask: other clients' I/O runs first. */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => defer(resolve));
}

/**
 * Calls queued functions a slice at a time: as many as fit in `SLICE_MS`, at least `minimum`,
 * then the rest in later macrotasks. The work a call starts in microtasks (a woken long poll
 * reading the log and answering) runs right after its slice, so a slice is measured from its
 * start to the start of the next one, and the count per slice follows that.
 */
export class SlicedCalls {
  private queue: (() => void)[] = [];
  private next = 0;
  private scheduled = false;
  /** Calls per slice, learnt from how long the last slices took. */
  private perSlice: number;
  private sliceStartedAt = 0;
  private sliceCalls = 0;

  constructor(private readonly minimum = 16) {
    this.perSlice = minimum;
  }

  /**
   * Queues `fn`. The first slice runs in this task, once the caller's synchronous code is done
   * (a microtask), so a few calls wait no longer than unsliced ones; the rest run later.
   */
  push(fn: () => void): void {
    this.queue.push(fn);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.run);
  }

  private readonly run = (): void => {
    const started = performance.now();
    if (this.sliceCalls > 0) {
      // The last slice's calls and the microtasks they started took this long.
      const perCall = (started - this.sliceStartedAt) / this.sliceCalls;
      this.perSlice = Math.max(this.minimum, Math.floor(SLICE_MS / Math.max(perCall, 0.001)));
    }
    const end = Math.min(this.queue.length, this.next + this.perSlice);
    this.sliceStartedAt = started;
    this.sliceCalls = end - this.next;
    while (this.next < end) {
      const fn = this.queue[this.next]!;
      this.queue[this.next++] = noop;
      fn();
    }
    if (this.next < this.queue.length) {
      defer(this.run);
      return;
    }
    this.queue = [];
    this.next = 0;
    this.scheduled = false;
    this.sliceCalls = 0;
  };
}

function noop(): void {}

/**
 * At most `size` holders at once; the others wait in line (first come, first served). Slices
 * alone do not bound the loop: 300 replays each yielding after 10 ms still make one turn of the
 * event loop take 3 s. Replays take a place while they write and give it back while they wait
 * (for their client, or their turn), so a turn holds at most `size` slices of them.
 */
export class Gate {
  private active = 0;
  private readonly line: (() => void)[] = [];

  constructor(private readonly size: number) {}

  /** Takes a place: synchronously (true) when one is free, else false and `wait()` gives one. */
  tryEnter(): boolean {
    if (this.active >= this.size || this.line.length > 0) return false;
    this.active++;
    return true;
  }

  /** Resolves with a place, in the order asked. */
  wait(): Promise<void> {
    return new Promise((resolve) => this.line.push(resolve));
  }

  leave(): void {
    const next = this.line.shift();
    // The place goes straight to the next in line.
    if (next) next();
    else this.active--;
  }
}

/** Replays writing at once, per hub: a turn of the event loop holds at most this many slices. */
export const REPLAY_WRITERS = 2;
