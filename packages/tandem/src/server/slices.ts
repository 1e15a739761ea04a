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
 * Work in turns of the event loop: per turn at most `slices` × `SLICE_MS` of work done while
 * holding a place, and at most `entries` places given; one holder at a time, the others wait in
 * line (first come, first served). Slices alone do not bound a turn: 300 replays each yielding
 * after 10 ms still make one turn take 3 s when each hands its place straight to the next,
 * because the next then runs in the microtasks of the same task (bench H's replay storm held
 * the loop for 0.5–4.6 s of CPU that way). So a place given back goes to the next in line at
 * once only while the turn has time and places left; after that the line waits for a later
 * macrotask (`defer`), and the other clients' I/O and timers run in between. Time, not a count,
 * bounds replays: a page of a few small events takes a place of its own, and with two places
 * per turn the 50 clients of the churn test were still replaying after 15 s.
 */
export class Gate {
  private holding = false;
  private heldSince = 0;
  /** Places given and ms held since the turn began. */
  private entered = 0;
  private spentMs = 0;
  private turnScheduled = false;
  private readonly line: (() => void)[] = [];
  private readonly budgetMs: number;

  constructor(
    slices: number,
    private readonly entries = Number.POSITIVE_INFINITY,
    /** Clock of the time budget, for tests. */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.budgetMs = slices * SLICE_MS;
  }

  /** Takes a place: synchronously (true) when one is free in this turn, else false and `wait()` gives one. */
  tryEnter(): boolean {
    if (this.holding || this.line.length > 0 || !this.open()) return false;
    this.enter();
    return true;
  }

  /** Resolves with a place, in the order asked. */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.line.push(resolve);
      this.pass();
    });
  }

  leave(): void {
    if (!this.holding) return;
    this.holding = false;
    this.spentMs += this.now() - this.heldSince;
    this.pass();
  }

  private open(): boolean {
    return this.entered < this.entries && this.spentMs < this.budgetMs;
  }

  private enter(): void {
    this.holding = true;
    this.heldSince = this.now();
    this.entered++;
    // The turn ends in a later macrotask, whatever else happens: then the counts start again.
    if (!this.turnScheduled) {
      this.turnScheduled = true;
      defer(this.nextTurn);
    }
  }

  /** Gives the free place to the next in line, in this turn if it has room left. */
  private pass(): void {
    if (this.holding || this.line.length === 0 || !this.open()) return;
    const next = this.line.shift()!;
    this.enter();
    next();
  }

  private readonly nextTurn = (): void => {
    this.turnScheduled = false;
    this.entered = 0;
    this.spentMs = 0;
    this.pass();
  };
}

/**
 * Replay slices per turn of the event loop, per hub: a turn holds at most this many. A turn
 * ends in the next check phase, so one pass of the loop may hold two turns (one begun in its
 * poll phase, one in its check phase): one slice each keeps that pass near 2 × `SLICE_MS`.
 */
export const REPLAY_WRITERS = 1;
