import type { Broker } from '../broker';
import {
  type DecodedCursor,
  isEmptyEpoch,
  type LiveEvent,
  type Position,
  type ResyncReason,
} from '../protocol';

/** Where one channel of a new stream or poll starts, and what it replays. */
export interface ChannelPlan {
  channel: string;
  epoch: string;
  /** Newest offset of the log when planned. */
  head: number;
  /** The position the client is at before `events`: its cursor's, or the head for a live start. */
  start: number;
  /** Events to replay after `start`, in order, without holes. */
  events: LiveEvent[];
  /** The client's cursor was honoured: everything it missed is in `events`. */
  recovered: boolean;
  /** Continuity is lost: the client must reload this channel. */
  resync: ResyncReason | null;
}

/**
 * Plans one channel per the resume rules of docs/server.md ("Resume"). The caller attaches its live listener
 * before calling this, so any event appended meanwhile is either in `events` or arrives live
 * with an offset above `start` / the last replayed one.
 *
 * - known position, same epoch, `oldest - 1 <= offset <= head`: replay after it (`recovered`);
 * - known position otherwise: `resync` (`epoch`, `retention`, or `cursor` for an offset the log
 *   never had), live from the head — never a partial replay;
 * - cursor present but nothing usable for this channel: `resync` (`cursor`);
 * - no cursor: live from the head, or with `undelivered` the retained events after it.
 */
async function planChannel(
  broker: Broker,
  channel: string,
  cursor: DecodedCursor,
  undelivered?: Position | null,
  limit?: number,
  maxBytes?: number,
): Promise<ChannelPlan> {
  const position = cursor.positions.get(channel);
  if (position) {
    const read = await broker.read(channel, position.offset, limit, maxBytes);
    const { epoch, head } = read;
    // Literals rather than spreads of a shared base: this runs for every stream that resumes.
    const live = (resync: ResyncReason): ChannelPlan => ({
      channel,
      epoch,
      head,
      start: head,
      events: [],
      recovered: false,
      resync,
    });
    if (epoch !== position.epoch) {
      // Offset 0 of an empty epoch: the client saw the channel with no log.
      const sawEmpty = position.offset === 0 && isEmptyEpoch(position.epoch);
      if (sawEmpty && isEmptyEpoch(epoch)) {
        // Still no log: nothing was missed, and the client keeps its position (a stable cursor).
        return {
          channel,
          epoch: position.epoch,
          head: 0,
          start: 0,
          events: [],
          recovered: true,
          resync: null,
        };
      }
      // A log since: replayed from its start if it is the first one since the look.
      if (!sawEmpty || !broker.continues?.(position.epoch, read)) return live('epoch');
    }
    if (position.offset > head) return live('cursor');
    if (position.offset < read.oldest - 1) return live('retention');
    // The log may have been pruned between our checks: the replay must start right after the cursor.
    const first = read.events[0];
    if (first ? first.offset !== position.offset + 1 : head !== position.offset) return live('retention');
    return {
      channel,
      epoch,
      head,
      start: position.offset,
      events: read.events,
      recovered: true,
      resync: null,
    };
  }
  if (cursor.present) {
    const info = await broker.info(channel);
    return { channel, ...info, start: info.head, events: [], recovered: false, resync: 'cursor' };
  }
  if (undelivered !== undefined) {
    // Events no connection has received: after the mark, or all retained ones when the mark is
    // from another epoch or unknown (nothing proves any of them was delivered).
    let read = await broker.read(channel, undelivered?.offset ?? 0, limit, maxBytes);
    if (undelivered && read.epoch !== undelivered.epoch && undelivered.offset > 0) {
      read = await broker.read(channel, 0, limit, maxBytes);
    }
    const start = read.events.length > 0 ? read.events[0]!.offset - 1 : read.head;
    return {
      channel,
      epoch: read.epoch,
      head: read.head,
      start,
      events: read.events,
      recovered: false,
      resync: null,
    };
  }
  const info = await broker.info(channel);
  return {
    channel,
    epoch: info.epoch,
    head: info.head,
    start: info.head,
    events: [],
    recovered: false,
    resync: null,
  };
}

/**
 * Plans every channel of a request in parallel; `limit` caps each channel's replay in events,
 * `maxBytes` in data bytes (see `Broker.read`).
 */
export function planChannels(
  broker: Broker,
  channels: readonly string[],
  cursor: DecodedCursor,
  undelivered?: (channel: string) => Position | null,
  limit?: number,
  maxBytes?: number,
): Promise<ChannelPlan[]> {
  return Promise.all(
    channels.map((channel) =>
      planChannel(broker, channel, cursor, undelivered ? undelivered(channel) : undefined, limit, maxBytes),
    ),
  );
}

/** Groups the channels needing `resync` by reason, in request order. */
export function resyncGroups(plans: readonly ChannelPlan[]): { channels: string[]; reason: ResyncReason }[] {
  const groups = new Map<ResyncReason, string[]>();
  for (const plan of plans) {
    if (!plan.resync) continue;
    const list = groups.get(plan.resync);
    if (list) list.push(plan.channel);
    else groups.set(plan.resync, [plan.channel]);
  }
  return [...groups].map(([reason, channels]) => ({ channels, reason }));
}
