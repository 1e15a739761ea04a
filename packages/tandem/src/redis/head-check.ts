import type { LiveFeed } from './feed';
import type { FeedSource } from './feed-source';

/**
 * Checks the live feed against the log, per process and per channel: every `intervalMs` it
 * reads the head of every channel followed — all commands in one tick, so node-redis sends them
 * as one pipelined write and the check is one round trip whatever the number of channels —
 * and repairs each channel whose log is ahead of what was delivered, through the feed's hole
 * repair (read the log, deliver in order). Pub/sub drops silently (a message lost, a
 * subscription gone without a reconnect); without this, such a loss would show only at the
 * channel's next event, or never. A head ahead is trusted only once its notification cannot
 * be on its way any more: after `fence` (a round trip on the subscriber connection, whose
 * reply comes after every notification published before the heads were read) and `confirmMs`
 * (for notifications that travel between servers, as in a cluster).
 */
export class HeadCheck {
  private timer: ReturnType<typeof setInterval> | undefined;
  private checking = false;
  /** Checks made, and channels they found behind their log and repaired. */
  checks = 0;
  repairs = 0;

  constructor(
    private readonly feed: LiveFeed,
    private readonly position: FeedSource['position'],
    private readonly fence: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly confirmMs: number,
  ) {}

  start(): void {
    if (this.timer || !(this.intervalMs > 0)) return;
    this.timer = setInterval(() => void this.run(), this.intervalMs);
    // A broker kept on globalThis must not keep the process alive by itself.
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check; resolves with the number of channels repaired (0 while another runs). */
  async run(): Promise<number> {
    if (this.checking) return 0;
    this.checking = true;
    try {
      this.checks++;
      const channels = this.feed.channels();
      let heads: Awaited<ReturnType<FeedSource['position']>>[];
      try {
        heads = await Promise.all(channels.map((channel) => this.position(channel)));
      } catch {
        return 0; // Redis unreachable: its return repairs every channel anyway.
      }
      const suspects = channels
        .map((channel, i) => ({ channel, ...heads[i]! }))
        .filter(({ channel, epoch, head }) => this.feed.behind(channel, epoch, head));
      if (suspects.length === 0) return 0;
      try {
        await Promise.all([
          this.fence(),
          new Promise<void>((resolve) => setTimeout(resolve, this.confirmMs).unref?.()),
        ]);
      } catch {
        return 0; // The subscriber is away: its return repairs every channel anyway.
      }
      let repaired = 0;
      for (const { channel, epoch, head } of suspects) {
        if (this.feed.behind(channel, epoch, head, true)) repaired++;
      }
      this.repairs += repaired;
      return repaired;
    } finally {
      this.checking = false;
    }
  }
}
