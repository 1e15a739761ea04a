import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Broker } from '../broker';
import type { EventMap, Timers } from '../protocol';
import type { Authorize, HubRequest } from './auth';
import type { MetricsSink } from './metrics';
import type { PresenceOptions } from './presence-options';
import type { PublishEndpointOptions } from './publish-options';

// One declaration, the protocol's, shared with the client: `EventsOf<typeof hub>` carries it over.
export type { EventMap };

/** Cross-origin access to the hub's endpoints. */
export interface CorsOptions {
  /**
   * Origins allowed to read: `'*'`, one origin, a list, or a predicate.
   * @default '*'
   */
  origin?: string | readonly string[] | ((origin: string) => boolean);
  /**
   * Whether cookies and `Authorization` may be sent cross-origin
   * (`Access-Control-Allow-Credentials`). Needs an explicit `origin` (one origin, a list or a
   * predicate): `createHub` throws with `origin: '*'`, which would echo every origin.
   * @default false
   */
  credentials?: boolean;
  /**
   * How long browsers may cache a preflight, in seconds.
   * @default 600
   */
  maxAgeSeconds?: number;
}

/** `GET {base}/metrics`, served only with this option and a sink that can render. */
export interface MetricsEndpointOptions {
  /**
   * Who may read the metrics: true serves them, false answers `403`. Throw a `TandemError` to
   * answer with its code. `() => true` makes the endpoint public.
   */
  authorize: (request: HubRequest) => boolean | Promise<boolean>;
}

export interface HubOptions<E extends EventMap = EventMap> {
  /**
   * Where events live and how they fan out between processes. The hub closes a broker it
   * created itself; a broker you pass in is yours to close.
   * @default memoryBroker()
   */
  broker?: Broker;
  /**
   * Who may read which channels. Without it every request may read every channel.
   * @default undefined (open)
   */
  authorize?: Authorize;
  /**
   * Interval of the `tandem:ping` heartbeat event, in ms (1 to 2³¹−1). One shared timer drives it; a
   * connection that received data since the last beat skips it.
   * @default 2000
   */
  heartbeatMs?: number;
  /**
   * The `retry:` field sent first on every stream: a native EventSource's reconnect delay, in
   * whole ms (the field takes digits only).
   * @default 1000
   */
  retryMs?: number;
  /**
   * A stream whose unsent bytes exceed this is closed as a slow consumer; it resumes from its
   * cursor when it can read again.
   * @default 1_048_576 (1 MiB)
   */
  maxBufferedBytes?: number;
  /**
   * Largest event `publish` accepts: the UTF-8 bytes of its data's JSON. Larger ones are refused
   * with `payload_too_large` (status 413). It must leave room in a stream's buffer for the
   * frame around it and one replay chunk, so that an event that fits can never get its stream
   * cut as a slow consumer: at most `maxBufferedBytes / 2 − min(64 KiB, maxBufferedBytes / 4)
   * − 4 KiB` (446 KiB with the default buffer); `createHub` refuses more. Without it, the
   * default is lowered to that bound when `maxBufferedBytes` is small.
   * @default 262_144 (256 KiB)
   */
  maxEventBytes?: number;
  /**
   * Most concurrent streams; beyond it `/stream` answers `429` with `Retry-After`. An idle
   * stream costs about 10 KB of the process's memory (5 KB of it heap; bench S1) plus the
   * kernel's socket buffers; one whose client reads slower than its events arrive holds up to
   * `maxBufferedBytes` more until it is cut. The default keeps idle streams near 100 MB; size
   * it as the memory you give streams divided by 10 KB plus the share of `maxBufferedBytes`
   * you expect behind, and below the process's open-file limit. `Infinity` turns it off.
   * @default 10_000
   */
  maxConnections?: number;
  /**
   * `Retry-After` of `429` and `503` answers, in whole seconds.
   * @default 2
   */
  retryAfterSeconds?: number;
  /**
   * `'undelivered'`: a connection without a cursor first receives, within retention, the events
   * of its channels that no connection of this hub has received yet: those published while no
   * stream was subscribed, until a live delivery or a client's cursor shows they were received.
   * Every connection that comes in the meantime gets them (not only the first).
   * @default 'none'
   */
  offline?: 'none' | 'undelivered';
  /**
   * Cross-origin access. `true` allows any origin without credentials.
   * @default false
   */
  cors?: boolean | CorsOptions;
  /**
   * Only serve requests under this path (e.g. `/api/live`). Without it the hub answers any path
   * ending in `/stream`, `/poll` or `/metrics`, which suits mounted middleware and catch-all routes.
   * @default undefined
   */
  basePath?: string;
  /**
   * Where the hub reports connections, publishes, deliveries, polls and errors:
   * `prometheusMetrics()` from `tandem/prometheus`, or any `MetricsSink`. Without it nothing
   * is recorded and nothing is loaded.
   * @default undefined
   */
  metrics?: MetricsSink;
  /**
   * Serves the sink's rendering at `GET {base}/metrics` to requests `authorize` accepts. Without
   * it, or with a sink that cannot render, that path is not the hub's (`404`, or `next()` as
   * middleware).
   * @default undefined
   */
  metricsEndpoint?: MetricsEndpointOptions;
  /**
   * Serves `POST {base}/publish`, so that a backend in any language publishes over HTTP with a
   * publish key or a grant (docs/publish.md). Without it that path is not the hub's (`404`).
   * @default undefined (off)
   */
  publishEndpoint?: PublishEndpointOptions;
  /**
   * Name of the cookie that may carry the token.
   * @default 'tandem_token'
   */
  tokenCookie?: string;
  /**
   * Longest `wait` of a long poll, in seconds; larger values are clamped.
   * @default 25
   */
  maxPollWaitSeconds?: number;
  /**
   * Most events one poll answers per channel. When more are retained the answer says
   * `more: true` and its cursor stops after the last event sent, so the client polls again at
   * once and nothing is skipped; one poll never builds an unbounded body.
   * @default 1000
   */
  maxPollEvents?: number;
  /**
   * Most bytes of events one poll answers, all channels together. Past it the answer says
   * `more: true`, each channel's cursor stops after its last event sent, and the client polls
   * again at once. An event larger than this still goes, alone.
   * @default 1_048_576 (1 MiB)
   */
  maxPollBytes?: number;
  /**
   * Ends each stream after about this long, in ms, with `tandem:bye` `rotate`: the client comes
   * straight back from its cursor, losing and repeating nothing, and its status stays `open`.
   * Set it below a platform's response limit (Vercel: 300 s by default). Each stream draws its
   * own limit between 80 % and 100 % of this, so streams opened together do not rotate
   * together; the shared heartbeat tick checks it, so a stream may run up to `heartbeatMs` longer.
   * @default Infinity (never)
   */
  maxStreamDurationMs?: number;
  /**
   * Who is on each channel (`hub.presence`, the client's `live.presence`): `true`, or the
   * channels and limits (`PresenceOptions`). See docs/presence.md.
   * @default false (off)
   */
  presence?: boolean | PresenceOptions;
  /**
   * How long `close()` waits for streams to drain before destroying them, in ms (0 to 2³¹−1).
   * @default 5000
   */
  closeTimeoutMs?: number;
  /**
   * Standard Schema validators (zod, valibot…) per event type: `publish` rejects data that does
   * not validate with `validation_failed` and the validator's message.
   * @default {}
   */
  schemas?: { [K in keyof E]?: StandardSchemaV1<unknown, E[K]> };
  /**
   * The hub's clock (token expiry, long-poll deadlines, `serverTime`, delivery lag), for tests.
   * @default Date.now
   */
  now?: () => number;
  /**
   * The hub's timers (heartbeat, expiries, long-poll deadlines, the memory broker it creates),
   * for tests. @default setTimeout/clearTimeout, unref'd so that a hub never keeps Node alive
   */
  timers?: Timers;
}

/**
 * The defaults of `createHub`'s options (each also on its option's `@default`). The brokers'
 * retention defaults are `BROKER_DEFAULTS`; `cors.maxAgeSeconds`'s is `corsMaxAgeSeconds`.
 */
export const HUB_DEFAULTS = {
  heartbeatMs: 2000,
  retryMs: 1000,
  maxBufferedBytes: 1_048_576,
  maxEventBytes: 262_144,
  maxConnections: 10_000,
  retryAfterSeconds: 2,
  offline: 'none',
  tokenCookie: 'tandem_token',
  maxPollWaitSeconds: 25,
  maxPollEvents: 1000,
  maxPollBytes: 1_048_576,
  closeTimeoutMs: 5000,
  maxStreamDurationMs: Number.POSITIVE_INFINITY,
  corsMaxAgeSeconds: 600,
} as const;

/** Each stream's rotation comes after `maxStreamDurationMs` × (1 − up to this fraction). */
export const ROTATION_JITTER = 0.2;
