import type { LiveEvent } from '../protocol';

/** A channel's log, as a broker reports it. */
export interface ChannelInfo {
  epoch: string;
  /** Offset of the newest event; 0 when the log is empty. */
  head: number;
  /**
   * Offset of the oldest event still retained; `head + 1` when none is. A position `p` can be
   * resumed exactly iff its epoch matches and `p >= oldest - 1`.
   */
  oldest: number;
}

export interface ReadResult extends ChannelInfo {
  /** Events with offset > `after`, in order, at most `limit` of them. */
  events: LiveEvent[];
}

/**
 * The storage and fan-out seam between the hub and where events live: the in-memory broker
 * for one process, the Redis broker for many.
 *
 * Contract:
 * - `append` assigns the next offset of the channel atomically (1, 2, 3… with no holes) and
 *   resolves with the stored event, or rejects (`broker_unavailable`) — never drops silently.
 *   What it stores is a copy: later changes to the published object change no event.
 * - The live feed delivers each channel's events to its listeners in offset order without
 *   holes within an epoch; a broker that notices a hole repairs it from its log before
 *   delivering. When the epoch of a channel changes (log lost), the first event of the new
 *   epoch that reaches a listener carries the new epoch; the hub turns that into `resync`.
 * - `info` and `read` create the channel's log (and epoch) on first use, so a position taken
 *   from `info` is valid for later `read`s while the log lives.
 */
export interface Broker {
  /**
   * `json` is `data` as `publish` serialised it, so a broker need not serialise it again. The
   * event stays as it was at this call: the caller may change `data` afterwards.
   */
  append(channel: string, type: string, data: unknown, json?: string): Promise<LiveEvent>;
  info(channel: string): Promise<ChannelInfo>;
  /** Events after `after`, oldest first. `limit` defaults to everything retained. */
  read(channel: string, after: number, limit?: number): Promise<ReadResult>;
  /** Subscribes to a channel's live feed; the returned function unsubscribes. */
  subscribe(channel: string, listener: (event: LiveEvent) => void): () => void;
  close(): Promise<void>;
}
