import { type HelloChannel, isEmptyEpoch, type Position, type ResyncReason } from '../protocol';
import type { EventMeta } from './types';

/** An app event as either path (stream or poll) delivers it: what a handler is told, and the data. */
export interface IncomingEvent extends EventMeta {
  data: unknown;
}

/** What a request (a stream connect or a poll) knew when it was sent, per channel. */
export interface SnapshotEntry {
  position: Position | null;
  /** How many resyncs of this channel the client had handled by then. */
  generation: number;
}
export type Snapshot = Map<string, SnapshotEntry>;

export type AcceptResult =
  /** Next in order: delivered to the app. */
  | 'delivered'
  /** Already delivered (the other path brought it first). */
  | 'duplicate'
  /** Ahead of a hole: held back until the hole is filled (by a poll). */
  | 'held'
  /** Another epoch than the one the client follows, with no resync to explain it: dropped. */
  | 'foreign';

interface ChannelState {
  position: Position | null;
  generation: number;
  /**
   * Set after a resync whose new position the server did not say: the next event, hello or poll
   * of this channel sets it. `oldEpoch` tells an epoch change (replay the new log from its start)
   * from a loss within one log (continue from the head).
   */
  awaiting: { oldEpoch: string; oldOffset: number; epochChanged: boolean } | null;
  /** Events past a hole, by offset, all of the current epoch. */
  held: Map<number, IncomingEvent>;
}

/** Most events held back per channel while a hole is being filled; more are fetched again later. */
export const MAX_HELD_PER_CHANNEL = 10_000;

/**
 * Merges the stream and the poller into one exactly-once, in-order feed per channel, keyed by
 * (channel, epoch, offset), and keeps the client's positions. It also decides which resync
 * reports are new: both paths may report the same loss, and the app must hear of it once.
 */
export class Merge {
  readonly #state = new Map<string, ChannelState>();

  readonly #deliver: (event: IncomingEvent) => void;

  constructor(
    readonly channels: readonly string[],
    deliver: (event: IncomingEvent) => void,
    initial: Record<string, Position> = {},
  ) {
    this.#deliver = deliver;
    for (const channel of channels) {
      this.#state.set(channel, {
        position: initial[channel] ?? null,
        generation: 0,
        awaiting: null,
        held: new Map(),
      });
    }
  }

  #channel(name: string): ChannelState | undefined {
    return this.#state.get(name);
  }

  /** The current positions, for the cursor and for storage. */
  positions(): Record<string, Position> {
    const out: Record<string, Position> = {};
    for (const [channel, s] of this.#state) if (s.position) out[channel] = { ...s.position };
    return out;
  }

  /** What a request about to be sent knows; its cursor is built from these positions. */
  snapshot(): Snapshot {
    const snap: Snapshot = new Map();
    for (const [channel, s] of this.#state) {
      snap.set(channel, { position: s.position && { ...s.position }, generation: s.generation });
    }
    return snap;
  }

  /**
   * Takes one event from either path. `snapshot` is the delivering stream's: an event in the
   * current epoch proves that stream follows the client's current lineage, so its later resync
   * reports are about new losses.
   */
  accept(event: IncomingEvent, snapshot?: Snapshot): AcceptResult {
    const s = this.#channel(event.channel);
    if (!s) return 'foreign';
    if (!s.position) {
      // A late event from before the loss (a request sent earlier) must not start the new lineage.
      const old = s.awaiting;
      if (old && event.epoch === old.oldEpoch && (old.epochChanged || event.offset <= old.oldOffset)) {
        return 'duplicate';
      }
      // First event after a resync (or ever): it starts the channel's position.
      s.awaiting = null;
      s.position = { epoch: event.epoch, offset: event.offset - 1 };
    }
    // The channel had no log when the client saw it (an empty epoch, offset 0): the first event
    // of its log comes next, under that log's epoch.
    if (s.position.offset === 0 && event.offset === 1 && isEmptyEpoch(s.position.epoch)) {
      s.position = { epoch: event.epoch, offset: 0 };
    }
    const position = s.position;
    if (event.epoch !== position.epoch) return 'foreign';
    if (snapshot) snapshot.set(event.channel, { position: { ...position }, generation: s.generation });
    if (event.offset <= position.offset) return 'duplicate';
    if (event.offset > position.offset + 1) {
      if (s.held.size < MAX_HELD_PER_CHANNEL) s.held.set(event.offset, event);
      return 'held';
    }
    this.#advance(s, event);
    return 'delivered';
  }

  #advance(s: ChannelState, event: IncomingEvent): void {
    s.position = { epoch: event.epoch, offset: event.offset };
    this.#deliver(event);
    // Flush what was held behind the hole just filled (held events share the current epoch).
    for (let next = s.held.get(event.offset + 1); next; next = s.held.get(next.offset + 1)) {
      s.held.delete(next.offset);
      s.position = { epoch: next.epoch, offset: next.offset };
      this.#deliver(next);
    }
  }

  /** Sets a channel's position (held events at or before it are dropped, those after flushed). */
  #adopt(s: ChannelState, position: Position): void {
    s.position = { ...position };
    s.awaiting = null;
    for (const [offset, held] of s.held) {
      if (held.epoch !== position.epoch || offset <= position.offset) s.held.delete(offset);
    }
    const next = s.held.get(position.offset + 1);
    if (next) {
      s.held.delete(next.offset);
      this.#advance(s, next);
    }
  }

  /**
   * A server's report of where a channel stands (a stream's hello, a poll's response), for
   * channels the request did not carry a position for: the client starts there. A channel that
   * awaits its post-resync position after an epoch change starts at the new log's beginning.
   */
  learn(channel: string, info: Pick<HelloChannel, 'epoch' | 'head'>, snapshot: Snapshot): void {
    const s = this.#channel(channel);
    if (!s) return;
    if (s.awaiting) {
      const fromStart = info.epoch !== s.awaiting.oldEpoch;
      this.#adopt(s, { epoch: info.epoch, offset: fromStart ? 0 : info.head });
      return;
    }
    if (s.position) return;
    if (snapshot.get(channel)?.position) return;
    this.#adopt(s, { epoch: info.epoch, offset: info.head });
  }

  /**
   * A resync report for `channels` from a request that knew `snapshot`. Returns the channels the
   * app must be told about: those the request had a position for, and whose loss the client
   * has not handled since (the other path may have reported it first). `adoptFrom` gives the
   * position to continue from when the report says it; otherwise the next event or report does.
   */
  resync(
    channels: readonly string[],
    snapshot: Snapshot,
    adoptFrom?: Map<string, Position>,
    reason?: ResyncReason,
  ): string[] {
    const reported: string[] = [];
    for (const channel of channels) {
      const s = this.#channel(channel);
      if (!s) continue;
      const known = snapshot.get(channel);
      const fresh = !!known?.position && known.generation === s.generation && !s.awaiting;
      const next = adoptFrom?.get(channel);
      if (fresh) {
        s.generation += 1;
        s.held.clear();
        if (next) this.#adopt(s, next);
        else {
          s.awaiting = {
            oldEpoch: known.position!.epoch,
            oldOffset: known.position!.offset,
            epochChanged: reason === 'epoch',
          };
          s.position = null;
        }
        reported.push(channel);
        // The reporting request now follows the new lineage.
        snapshot.set(channel, { position: s.position && { ...s.position }, generation: s.generation });
      } else if (next && (s.awaiting || !s.position)) {
        this.learn(channel, { epoch: next.epoch, head: next.offset }, snapshot);
      }
    }
    return reported;
  }
}
