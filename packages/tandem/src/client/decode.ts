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
  /** Compact wire: a channel moves to another epoch (the decoder keeps it). */
  | { kind: 'epoch'; epoch: EpochPayload }
  /** Compact wire, before the decoder names its channel and epoch (`StreamDecoder`). */
  | { kind: 'compact'; id: string; offset: number; ts: number; json: string }
  /**
   * Nothing for the session: not JSON, or missing what the client needs (a hole the poller
   * fills, if any), or a frame `StreamDecoder` keeps for itself (`tandem:epoch`).
   */
  | { kind: 'invalid' };

/** What a stream's `StreamDecoder` hands the session: the compact wire resolved. */
export type SessionMessage = Exclude<StreamMessage, { kind: 'epoch' | 'compact' }>;

/**
 * Decodes one parsed SSE event; an app event as a compact frame when `compact`. Pure; never
 * throws.
 */
export function decodeStreamEvent(event: ParsedEvent, compact = false): StreamMessage {
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
    case CONTROL_EVENTS.epoch: {
      const epoch = parseJson<EpochPayload>(event.data);
      return epoch && typeof epoch.channel === 'string' && typeof epoch.epoch === 'string'
        ? { kind: 'epoch', epoch }
        : { kind: 'invalid' };
    }
  }
  if (compact) {
    const parsed = parseCompactData(event.data);
    return parsed ? { kind: 'compact', ...parsed } : { kind: 'invalid' };
  }
  const envelope = parseJson<EventEnvelope>(event.data);
  if (!envelope || typeof envelope.channel !== 'string' || !Number.isSafeInteger(envelope.offset)) {
    return { kind: 'invalid' };
  }
  return { kind: 'event', event: { ...envelope, type: event.type, source: 'stream' } };
}

/**
 * Decodes one stream's events: the classic frames, or the compact ones once the hello says so
 * (it names each channel's id and epoch; `tandem:epoch` moves a channel to a new epoch). One
 * per stream: ids are the hub's, valid for that stream only.
 */
export class StreamDecoder {
  /** Compact wire: channel and epoch by id; null while the stream speaks the classic frames. */
  #channels: Map<string, { channel: string; epoch: string }> | null = null;

  decode(event: ParsedEvent): SessionMessage {
    const message = decodeStreamEvent(event, this.#channels !== null);
    if (message.kind === 'hello' && message.hello.wire === COMPACT_WIRE) {
      const channels = new Map<string, { channel: string; epoch: string }>();
      for (const [channel, info] of Object.entries(message.hello.channels ?? {})) {
        if (typeof info?.id === 'string') channels.set(info.id, { channel, epoch: info.epoch });
      }
      this.#channels = channels;
    } else if (message.kind === 'epoch') {
      for (const entry of this.#channels?.values() ?? []) {
        if (entry.channel === message.epoch.channel) entry.epoch = message.epoch.epoch;
      }
      return { kind: 'invalid' };
    } else if (message.kind === 'compact') {
      const entry = this.#channels?.get(message.id);
      if (!entry) return { kind: 'invalid' };
      const data = parseJson<unknown>(message.json);
      if (data === null && message.json !== 'null') return { kind: 'invalid' };
      const { channel, epoch } = entry;
      const { offset, ts } = message;
      return {
        kind: 'event',
        event: { channel, type: event.type, offset, epoch, ts, data, source: 'stream' },
      };
    }
    return message;
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
