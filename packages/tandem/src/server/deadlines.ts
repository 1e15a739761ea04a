import { TimerSlot } from '../protocol';
import type { ServerEnvironment } from './environment';
import { SlicedCalls } from './slices';

/**
 * Deadlines on one timer, armed for the earliest: long polls wait without a timer each.
 */
export class Deadlines {
  private readonly entries = new Map<symbol, { at: number; fire: () => void }>();
  private readonly timer: TimerSlot;
  private armedAt = Number.POSITIVE_INFINITY;
  /** Thousands of long polls may end together: they answer in slices. */
  private readonly due = new SlicedCalls();

  constructor(private readonly env: ServerEnvironment) {
    this.timer = new TimerSlot(env.timers);
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
    this.armedAt = at;
    this.timer.set(Math.max(0, at - this.env.now()), () => this.run());
  }

  private disarm(): void {
    this.timer.clear();
    this.armedAt = Number.POSITIVE_INFINITY;
  }

  private run(): void {
    this.armedAt = Number.POSITIVE_INFINITY;
    const now = this.env.now();
    for (const [key, entry] of this.entries) {
      if (entry.at > now) continue;
      this.entries.delete(key);
      this.due.push(entry.fire);
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
