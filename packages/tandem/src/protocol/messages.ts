import type { COMPACT_WIRE } from './compact';

/** Names of Tandem's own SSE events. App event types may not start with `tandem:`. */
export const CONTROL_EVENTS = {
  hello: 'tandem:hello',
  resync: 'tandem:resync',
  ping: 'tandem:ping',
  bye: 'tandem:bye',
  /** Compact wire only: a channel's events now belong to another epoch (`EpochPayload`). */
  epoch: 'tandem:epoch',
} as const;

export type ControlEventName = (typeof CONTROL_EVENTS)[keyof typeof CONTROL_EVENTS];

export const RESERVED_TYPE_PREFIX = 'tandem:';

export function isReservedType(type: string): boolean {
  return type.startsWith(RESERVED_TYPE_PREFIX);
}

/** A stored event: what `publish` returns and what brokers hold. */
export interface LiveEvent<T = unknown> {
  channel: string;
  /** The app's event name, e.g. `order:created`. */
  type: string;
  data: T;
  /** 1, 2, 3… per channel and epoch, without holes. */
  offset: number;
  /** Identity of the channel's log; a lost log comes back with a new epoch. */
  epoch: string;
  /** Publish time, ms since the Unix epoch. */
  ts: number;
}

/** The JSON in an app event's `data:` field; the SSE `event:` field carries the type. */
export interface EventEnvelope<T = unknown> {
  channel: string;
  offset: number;
  epoch: string;
  ts: number;
  data: T;
}

export interface HelloChannel {
  epoch: string;
  /** Offset of the newest event in the log when the stream started. */
  head: number;
  /** True when the client's cursor was honoured and missed events were replayed. */
  recovered: boolean;
  /**
   * Compact wire only: the short id that names this channel in the stream's event frames (see
   * `WIRE_PARAM`), the same for every compact stream of the hub that follows the channel.
   */
  id?: string;
}

/** `tandem:hello`, the first event of every stream. */
export interface HelloPayload {
  connectionId: string;
  heartbeatMs: number;
  serverTime: number;
  channels: Record<string, HelloChannel>;
  /**
   * Milliseconds until the stream's token expires (absent when it does not): the client gets
   * a new token and moves to a new stream before then, without a gap.
   */
  expiresInMs?: number;
  /**
   * `'compact'` when the client asked for the compact wire (`?wire=compact`) and the hub sends
   * it: app events are compact frames (`encodeCompactFrame`), each channel named by its `id`.
   * Absent: the classic frames (the envelope JSON, the cursor as `id:`).
   */
  wire?: typeof COMPACT_WIRE;
}

/**
 * `tandem:epoch`, compact wire only: the channel's next events belong to `epoch` (its log was
 * created, or lost and recreated). A lost continuity still comes as `tandem:resync` first.
 */
export interface EpochPayload {
  channel: string;
  epoch: string;
}

/**
 * Why continuity was lost:
 * - `cursor`: no usable position (malformed, foreign or unknown cursor);
 * - `epoch`: the channel's log was lost and recreated;
 * - `retention`: the events after the position are no longer retained;
 * - `gap`: the server saw a hole in its live feed it could not repair.
 */
export type ResyncReason = 'cursor' | 'epoch' | 'retention' | 'gap';

/** `tandem:resync`: the app must reload its state for these channels. */
export interface ResyncPayload {
  channels: string[];
  reason: ResyncReason;
}

/** A channel's head in a ping: `[epoch, offset]` of its newest event. */
export type PingHead = [epoch: string, offset: number];

/** `tandem:ping`, the heartbeat: an event, so that a native EventSource sees it too. */
export interface PingPayload {
  t: number;
  /**
   * Per channel of the stream, the newest event the hub has delivered to its streams or seen in
   * the log. A client whose position (same epoch) stays below it has missed an event: it polls.
   * Channels whose head the hub does not know yet are left out.
   */
  heads?: Record<string, PingHead>;
}

/**
 * Why the server ended a stream. `rotate`: the stream reached the hub's `maxStreamDurationMs`;
 * the client comes straight back from its cursor (no jitter, no change of status).
 */
export type ByeReason = 'shutdown' | 'token_expired' | 'slow_consumer' | 'server_closed' | 'rotate';

/** `tandem:bye`: the server ends the stream on purpose; reconnect (with jitter) unless told otherwise. */
export interface ByePayload {
  reason: ByeReason;
  /** Suggested wait before reconnecting, in ms. */
  reconnectMs?: number;
}

/** A `/poll` response body. */
export interface PollResponse<T = unknown> {
  events: LiveEvent<T>[];
  /** Cursor after these events; send it with the next poll or stream. */
  cursor: string;
  /** Channels whose continuity was lost (empty when none), with the reason. */
  resync: ResyncPayload | null;
  /** Per channel: epoch and head at the time of the poll. */
  channels: Record<string, HelloChannel>;
  /** More events are retained after this answer's cursor (the server caps one answer): poll again now. */
  more: boolean;
}

/** An app's event map: event type → data type, e.g. `{ 'order:created': Order }`. */
export type EventMap = Record<string, unknown>;

/**
 * The event map a hub was created with, read off its type, so that the browser code need not
 * repeat it: `createLiveClient<EventsOf<typeof hub>>(…)` (with `import type` of the hub).
 */
export type EventsOf<T> = T extends { readonly '~events'?: infer E }
  ? NonNullable<E> extends EventMap
    ? NonNullable<E>
    : never
  : never;
