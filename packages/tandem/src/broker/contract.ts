import { type LiveEvent, parseEmptyEpoch } from '../protocol';
import type { PresenceStore } from './presence';

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
  /** When the log was created, on the broker's clock; absent for a channel with no log. */
  created?: number;
}

/** What `Broker.append` may be told besides the event. */
export interface AppendOptions {
  /**
   * Makes the append idempotent: a repeat of `(channel, idempotencyKey)` within the broker's
   * `idempotencyWindowMs` resolves with the first append's stored event (same epoch and offset)
   * and delivers nothing new. The check and the append are one atomic step. 1-200 characters.
   * @default undefined (every append is a new event)
   */
  idempotencyKey?: string;
}

export interface ReadResult extends ChannelInfo {
  /** Events with offset > `after`, in order, at most `limit` of them (and about `maxBytes`). */
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
 * - `info`, `read` and `subscribe` create nothing: a channel with no log reads as empty under
 *   an empty epoch (`emptyEpoch`), which names no log but when and by which broker the channel
 *   was seen empty; a later read of the still empty channel may report another. A log is
 *   created by `append` only, and a position taken from `info` is valid for later `read`s
 *   while it lives.
 * - `continues` tells whether a log is the first the channel got since it was seen empty, so
 *   that a client at offset 0 of an empty epoch receives that log's events from offset 1 without
 *   a resync; a broker without it makes such a client resync (`epoch`) once the channel has a log.
 */
export interface Broker {
  /**
   * `json` is `data` as `publish` serialised it, so a broker need not serialise it again. The
   * event stays as it was at this call: the caller may change `data` afterwards.
   */
  append(
    channel: string,
    type: string,
    data: unknown,
    json?: string,
    options?: AppendOptions,
  ): Promise<LiveEvent>;
  info(channel: string): Promise<ChannelInfo>;
  /**
   * Events after `after`, oldest first. `limit` defaults to everything retained. With
   * `maxBytes`, the broker stops once the returned events' data JSON reaches `maxBytes` bytes
   * (UTF-8), but returns at least one event if any exists after `after`, so that a reader
   * bounded by bytes always progresses. It bounds the broker's own work, not only the answer.
   */
  read(channel: string, after: number, limit?: number, maxBytes?: number): Promise<ReadResult>;
  /**
   * Whether `log` (from `info` or `read`) holds every event published to the channel since it
   * was seen empty under `empty`, an epoch this broker reported.
   */
  continues?(empty: string, log: ChannelInfo): boolean;
  /** Subscribes to a channel's live feed; the returned function unsubscribes. */
  subscribe(channel: string, listener: (event: LiveEvent) => void): () => void;
  /**
   * Where hubs keep who is on each channel (see `PresenceStore`). A broker without one shares
   * a store in memory among the hubs of its process.
   */
  readonly presence?: PresenceStore;
  close(): Promise<void>;
}

/**
 * `Broker.continues` for a broker whose empty epochs carry `source` and its clock, and which
 * drops a log only after `idleTtlMs` untouched (0: never): a log created after the channel was
 * seen empty lives at least that long, so one created less than `idleTtlMs` after the look is
 * the first since. A broker that loses logs otherwise (a restart) must change its source.
 */
export function emptyContinues(empty: string, log: ChannelInfo, source: string, idleTtlMs: number): boolean {
  const seen = parseEmptyEpoch(empty);
  if (!seen || seen.source !== source || !log.created) return false;
  // Created before the look, which found no log: a clock that stepped back. Resync to be safe.
  if (log.created < seen.time) return false;
  return idleTtlMs <= 0 || log.created < seen.time + idleTtlMs;
}
