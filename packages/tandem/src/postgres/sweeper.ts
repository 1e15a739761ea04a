/**
 * Runs retention every `intervalMs`: one batch, then more batches at once while a batch comes
 * back full (a backlog), up to a bound per round so one hub never sweeps for long. Failures are
 * left for the next round: PostgreSQL unreachable now is not retention's problem.
 */
export class Sweeper {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running = false;

  constructor(
    private readonly sweep: () => Promise<number>,
    private readonly intervalMs: number,
    private readonly batch = 1000,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.run(), this.intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let round = 0; round < 10; round++) {
        if ((await this.sweep()) < this.batch) break;
      }
    } catch {
      // Next round.
    } finally {
      this.running = false;
    }
  }
}
