import {
  type ByePayload,
  COMPACT_WIRE,
  CONTROL_EVENTS,
  type EpochPayload,
  type EventEnvelope,
  type HelloPayload,
  type ParsedEvent,
  type PingPayload,
  type Position,
  PRESENCE_EVENT,
  type PresencePayload,
  parseCompactData,
  type ResyncPayload,
} from '../protocol';
import type { IncomingEvent } from './merge';

/** One stream event, decoded: a control message or an app event. */
export type StreamMessage =
  | { kind: 'hello'; hello: HelloPayload }
  /** `heads`: what the server announced, per channel (null when it announced none). */
  | { kind: 'ping'; heads: Record<string, Position> | null }
  | { kind: 'resync'; resync: ResyncPayload }
  | { kind: 'bye'; bye: ByePayload | null }
  | { kind: 'event'; event: IncomingEvent }
  | { kind: 'presence'; presence: PresencePayload }
  /**
   * Not JSON, or missing what the client needs: ignored (a hole the poller fills, if any).
   * Also what `StreamDecoder` returns for the `tandem:epoch` it keeps.
   */
  | { kind: 'invalid' };

/** Decodes one parsed SSE event. Pure; never throws. */
export function decodeStreamEvent(event: ParsedEvent): StreamMessage {
  switch (event.type) {
    case CONTROL_EVENTS.hello: {
      const hello = parseJson<HelloPayload>(event.data);
      return hello && typeof hello === 'object' ? { kind: 'hello', hello } : { kind: 'invalid' };
    }
    case CONTROL_EVENTS.ping:
      return { kind: 'ping', heads: headsOf(parseJson<PingPayload>(event.data)) };
    case CONTROL_EVENTS.resync: {
      const resync = parseJson<ResyncPayload>(event.data);
      return resync && Array.isArray(resync.channels) ? { kind: 'resync', resync } : { kind: 'invalid' };
    }
    case CONTROL_EVENTS.bye:
      return { kind: 'bye', bye: parseJson<ByePayload>(event.data) };
    case PRESENCE_EVENT: {
      const presence = parseJson<PresencePayload>(event.data);
      return presence && typeof presence === 'object' ? { kind: 'presence', presence } : { kind: 'invalid' };
    }
  }
  const envelope = parseJson<EventEnvelope>(event.data);
  if (!envelope || typeof envelope.channel !== 'string' || !Number.isSafeInteger(envelope.offset)) {
    return { kind: 'invalid' };
  }
  return { kind: 'event', event: { ...envelope, type: event.type, source: 'stream' } };
}

/**
 * Decodes one stream's events: the classic frames, or the compact ones once the hello says so
 * (it names each channel's id and epoch; `tandem:epoch` moves a channel to another epoch, and
 * is kept here: the session sees it as `invalid`, nothing for it). One per stream: the ids are
 * the hub's, for that stream only.
 */
export class StreamDecoder {
  /** Compact wire: `[channel, epoch]` by id; null while the stream speaks the classic frames. */
  #ids: Map<string, [string, string]> | null = null;

  decode(event: ParsedEvent): StreamMessage {
    const ids = this.#ids;
    const { type, data } = event;
    if (ids && type === CONTROL_EVENTS.epoch) {
      const epoch = parseJson<EpochPayload>(data);
      for (const entry of ids.values()) if (entry[0] === epoch?.channel) entry[1] = String(epoch.epoch);
      return { kind: 'invalid' };
    }
    if (!ids || type.startsWith('tandem:')) {
      const message = decodeStreamEvent(event);
      if (message.kind === 'hello' && message.hello.wire === COMPACT_WIRE) {
        this.#ids = new Map();
        for (const [channel, info] of Object.entries(message.hello.channels ?? {})) {
          this.#ids.set(String(info.id), [channel, info.epoch]);
        }
      }
      return message;
    }
    const compact = parseCompactData(data);
    const at = compact && ids.get(compact.id);
    const value = at && parseJson(compact.json);
    if (!at || (value === null && compact.json !== 'null')) return { kind: 'invalid' };
    const { offset, ts } = compact;
    return {
      kind: 'event',
      event: { channel: at[0], type, offset, epoch: at[1], ts, data: value, source: 'stream' },
    };
  }
}

/** The well-formed entries of a ping's `heads` (`channel: [epoch, offset]`), or null. */
function headsOf(ping: PingPayload | null): Record<string, Position> | null {
  const heads = ping && typeof ping === 'object' ? ping.heads : undefined;
  if (!heads || typeof heads !== 'object' || Array.isArray(heads)) return null;
  const out: Record<string, Position> = {};
  let any = false;
  for (const [channel, head] of Object.entries(heads)) {
    if (!Array.isArray(head)) continue;
    const [epoch, offset] = head as unknown[];
    if (typeof epoch !== 'string' || !Number.isSafeInteger(offset) || (offset as number) < 0) continue;
    out[channel] = { epoch, offset: offset as number };
    any = true;
  }
  return any ? out : null;
}

function parseJson<T>(text: string): T | null {
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}
