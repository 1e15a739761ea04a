import { TimerSlot } from '../protocol';
import type { ServerEnvironment } from './environment';

/**
 * One shared beat for the whole hub (heartbeats), running only while it has work: the number
 * of timers never grows with connections.
 */
export class Ticker {
  private readonly timer: TimerSlot;
  private active = false;

  constructor(
    private readonly env: ServerEnvironment,
    private readonly intervalMs: number,
    private readonly tick: (now: number) => void,
  ) {
    this.timer = new TimerSlot(env.timers);
  }

  get running(): boolean {
    return this.active;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.timer.set(this.intervalMs, this.beat);
  }

  stop(): void {
    this.active = false;
    this.timer.clear();
  }

  private readonly beat = (): void => {
    // Re-armed first: a tick that stops the ticker (the last stream closed) wins.
    this.timer.set(this.intervalMs, this.beat);
    this.tick(this.env.now());
  };
}
