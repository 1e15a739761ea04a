import type { ByeReason, LiveEvent, PresenceView } from '../protocol';
import type { NodeHandler } from './node-handler';
import type { EventMap } from './options';

/**
 * Which streams `disconnect` ends: a connection id, or every stream matching all given fields.
 * `channel` is a pattern (`tenant:acme/**`): a stream matches when one of its channels does.
 */
export type DisconnectFilter = string | { connectionId?: string; subject?: string; channel?: string };

/** Sizes of the hub's internal maps, for leak tests and dashboards. */
export interface HubStats {
  /** Open streams. */
  connections: number;
  /** Channels with a live broker subscription. */
  channels: number;
  /** Connection listeners attached to channels. */
  subscribers: number;
  /** Long polls waiting for an event. */
  waiters: number;
  /** Open stream responses. */
  responses: number;
  /** Whether the shared heartbeat timer runs (it does only while streams are open). */
  heartbeat: boolean;
  /**
   * With presence: streams counted by this hub, channels it watches, and ended streams' entries
   * waiting out their grace. All 0 once its streams are gone and the grace has passed.
   */
  presence?: { streams: number; channels: number; leaving: number };
}

/** What `hub.publish` may be told besides the event. */
export interface PublishOptions {
  /**
   * Makes the publish safe to retry: a repeat of `(channel, idempotencyKey)` within the broker's
   * `idempotencyWindowMs` (5 minutes by default) resolves with the first publish's event (same
   * epoch and offset) and delivers nothing new. 1-200 characters; a request id or the id of the
   * row the event is about are good keys.
   * @default undefined (every publish is a new event)
   */
  idempotencyKey?: string;
}

export interface Hub<E extends EventMap = EventMap> {
  /** Never set: carries the event map for `EventsOf<typeof hub>` in client code. */
  readonly '~events'?: E;
  /**
   * Appends an event to a channel's log and fans it out. Resolves with the stored event
   * (offset, epoch, ts); rejects with a TandemError: `invalid_channel`, `invalid_field` (CR, LF
   * or NUL in the type), `bad_request` (reserved `tandem:` type, data not JSON-serialisable),
   * `payload_too_large` (data JSON over `maxEventBytes`), `validation_failed`, `broker_unavailable`,
   * `shutting_down`; `bad_request` also for an `idempotencyKey` that is not 1-200 characters.
   */
  publish<K extends keyof E & string>(
    channel: string,
    type: K,
    data: E[K],
    options?: PublishOptions,
  ): Promise<LiveEvent<E[K]>>;
  /**
   * The channels' current positions, as a cursor a client can start from
   * (`createLiveClient({ cursor })`). For server rendering: read it **before** loading the data
   * you render, so every event after that data reaches the client (those in between come twice:
   * apply them idempotently). A channel without a log gets one, and the position of its start.
   * Rejects with a TandemError: `bad_request` (no channel, more than 64), `invalid_channel`,
   * `broker_unavailable`, `shutting_down`. See docs/react.md, "Server rendering".
   */
  cursor(channels: readonly string[]): Promise<string>;
  /**
   * Who is on a channel, across every hub on the broker: `users`, `connections`, and `members`
   * up to `presence.maxMembers` users. Rejects with a TandemError: `bad_request` (presence is
   * off for the channel), `invalid_channel`, `broker_unavailable`, `shutting_down`.
   */
  presence(channel: string): Promise<PresenceView>;
  /** Fetch API handler, bound: `export const GET = hub.fetch` in a Next.js route. */
  readonly fetch: (request: Request) => Promise<Response>;
  /**
   * node:http handler, bound: `http.createServer(hub.node)`; also Express/Connect middleware
   * (`app.use(hub.node)`: paths other than its endpoints go to `next`).
   */
  readonly node: NodeHandler;
  /** Ends matching streams with `tandem:bye`; returns how many. */
  disconnect(filter: DisconnectFilter, reason?: ByeReason): number;
  /** Sizes of the hub's maps: `stats().connections` is the number of open streams. */
  stats(): HubStats;
  /**
   * Graceful shutdown: from now on every answer is `503` `shutting_down` with `Connection:
   * close`, long polls end, every stream gets `tandem:bye` `shutdown` (and, on `hub.node`, its
   * connection closes), so clients reconnect to the next process. Resolves when the streams
   * drained, or after `closeTimeoutMs`. Call it on SIGTERM: see docs/deploy.md, "Shutdown".
   */
  close(): Promise<void>;
}
