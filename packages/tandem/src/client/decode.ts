import {
  type ByePayload,
  CONTROL_EVENTS,
  type EventEnvelope,
  type HelloPayload,
  type ParsedEvent,
  type PingPayload,
  type Position,
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
  /** Not JSON, or missing what the client needs: ignored (a hole the poller fills, if any). */
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
  }
  const envelope = parseJson<EventEnvelope>(event.data);
  if (!envelope || typeof envelope.channel !== 'string' || !Number.isSafeInteger(envelope.offset)) {
    return { kind: 'invalid' };
  }
  return { kind: 'event', event: { ...envelope, type: event.type, source: 'stream' } };
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
