/**
 * One shared interval for the whole hub (heartbeats, token expiry), running only while it has
 * work: the number of timers never grows with connections.
 */
export class Ticker {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly tick: (now: number) => void,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(Date.now()), this.intervalMs);
    // A hub kept on globalThis must not keep the process alive by itself.
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * Deadlines on one timer, armed for the earliest: long polls wait without a timer each.
 */
export class Deadlines {
  private readonly entries = new Map<symbol, { at: number; fire: () => void }>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private armedAt = Number.POSITIVE_INFINITY;

  get size(): number {
    return this.entries.size;
  }

  /** Calls `fire` at `at` (ms) unless cancelled; returns the cancel function. */
  add(at: number, fire: () => void): () => void {
    const key = Symbol();
    this.entries.set(key, { at, fire });
    if (at < this.armedAt) this.arm(at);
    return () => {
      this.entries.delete(key);
      if (this.entries.size === 0) this.disarm();
    };
  }

  private arm(at: number): void {
    this.disarm();
    this.armedAt = at;
    this.timer = setTimeout(() => this.run(), Math.max(0, at - Date.now()));
    this.timer.unref?.();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
  }

  private run(): void {
    this.timer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (const [key, entry] of this.entries) {
      if (entry.at > now) continue;
      this.entries.delete(key);
      entry.fire();
    }
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.entries.values()) if (entry.at < next) next = entry.at;
    if (next < this.armedAt) this.arm(next);
  }

  /** Fires every deadline now (shutdown). */
  fireAll(): void {
    const entries = [...this.entries.values()];
    this.entries.clear();
    this.disarm();
    for (const entry of entries) entry.fire();
  }
}
