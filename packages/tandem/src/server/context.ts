import type { Broker } from '../broker';
import type { LiveEvent, Position } from '../protocol';
import type { Authorize } from './auth';
import type { Connection, ConnectionHost } from './connection';
import type { Cors } from './cors';
import type { Deadlines } from './deadlines';
import type { ServerEnvironment } from './environment';
import type { Fanout } from './fanout';
import type { PublishOptions } from './hub-types';
import type { MetricsReporter, MetricsSink } from './metrics';
import type { MetricsEndpointOptions } from './options';
import type { Presence } from './presence';
import type { PublishEndpointSettings } from './publish-options';
import type { Sink } from './sink';

/** Options with every default applied. */
export interface Settings {
  authorize: Authorize | undefined;
  heartbeatMs: number;
  retryMs: number;
  maxBufferedBytes: number;
  maxEventBytes: number;
  maxConnections: number;
  retryAfterSeconds: number;
  offline: 'none' | 'undelivered';
  basePath: string | undefined;
  metricsEndpoint: MetricsEndpointOptions | undefined;
  /** `POST {base}/publish`, off (404) without it. */
  publishEndpoint: PublishEndpointSettings | undefined;
  tokenCookie: string;
  maxPollWaitSeconds: number;
  maxPollEvents: number;
  maxPollBytes: number;
  closeTimeoutMs: number;
  maxStreamDurationMs: number;
}

/**
 * The state the hub's request handlers share. Internal: the public surface is `Hub`.
 */
export interface HubContext {
  readonly settings: Settings;
  readonly broker: Broker;
  readonly fanout: Fanout;
  /** Who is on each channel; null when the hub has no presence. */
  readonly presence: Presence | null;
  /** Where the hub reports; every method a no-op without a sink. */
  readonly metrics: MetricsReporter;
  readonly metricsSink: MetricsSink | undefined;
  readonly cors: Cors | null;
  readonly connections: Map<string, Connection>;
  readonly host: ConnectionHost;
  /** The hub's clock and timers. */
  readonly env: ServerEnvironment;
  /** Long polls' deadlines, all on one timer. */
  readonly deadlines: Deadlines;
  /** Responses (streams) still open, so `close()` can wait for them to drain. */
  readonly sinks: Set<Sink>;
  /** `close()` was called: new requests get 503. */
  readonly closing: boolean;
  /** `hub.publish`, for the publish endpoint. */
  publish(channel: string, type: string, data: unknown, options?: PublishOptions): Promise<LiveEvent>;
  newConnectionId(): string;
  /** Registers a new stream (and starts the shared heartbeat). */
  addConnection(connection: Connection): void;
  /**
   * With `offline: 'undelivered'`: the last position known delivered on a channel (sent live to
   * a connection, or acknowledged by a client's cursor), null if unknown.
   */
  deliveredMark: ((channel: string) => Position | null) | undefined;
  markDelivered(channel: string, epoch: string, offset: number): void;
  /** Reports an unexpected failure (not a TandemError). */
  reportError(error: unknown): void;
  sinkClosed(sink: Sink): void;
}
