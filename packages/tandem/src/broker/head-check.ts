import type { LiveFeed } from './feed';

/**
 * Each channel's epoch and head, in the order asked (`epoch` undefined: no log), read in one
 * round trip whatever the number of channels (one query, or commands pipelined in one tick).
 */
export type ReadHeads = (channels: string[]) => Promise<{ epoch: string | undefined; head: number }[]>;

/**
 * Checks the live feed against the log, per process and per channel: every `intervalMs` it
 * reads the heads of every channel followed and repairs each channel whose log is ahead of what
 * was delivered, through the feed's hole repair (read the log, deliver in order). Notifications
 * are lost silently (a message dropped, a connection's end unseen for a while, a subscription
 * gone without a reconnect); without this, such a loss would show only at the channel's next
 * event, or never. A head ahead is trusted only once its notification cannot be on its way any
 * more: after `fence` (a round trip on the notifying connection, whose reply comes after every
 * notification sent before the heads were read) and `confirmMs` (for notifications that travel
 * between servers, as in a Redis cluster).
 */
export class HeadCheck {
  private timer: ReturnType<typeof setInterval> | undefined;
  private checking = false;
  /** Checks made, and channels they found behind their log and repaired. */
  checks = 0;
  repairs = 0;

  constructor(
    private readonly feed: LiveFeed,
    private readonly heads: ReadHeads,
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
      if (channels.length === 0) return 0;
      let heads: Awaited<ReturnType<ReadHeads>>;
      try {
        heads = await this.heads(channels);
      } catch {
        return 0; // The store is unreachable: its return repairs every channel anyway.
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
        return 0; // The notifying connection is away: its return repairs every channel anyway.
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
