import type { ByeReason, ResyncReason, TandemErrorCode } from '../protocol';

/** How a poll was answered. */
export type PollResult = 'events' | 'empty' | 'not_modified' | 'resync';

/** How a request to the publish endpoint was answered: every event, some (a batch), or an error. */
export type PublishResult = 'ok' | 'partial' | TandemErrorCode;

/** Why a stream ended: a `tandem:bye` reason, or `aborted` (the client left, a write failed). */
export type CloseReason = ByeReason | 'aborted';

/** What a sink may read from the hub it reports for. */
export interface MetricsSource {
  /** Open streams now. */
  connections(): number;
}

/** A rendering of the metrics, served by `GET {base}/metrics`. */
export interface RenderedMetrics {
  contentType: string;
  body: string;
}

/**
 * Where a hub reports what it does. Every method is optional, and the hub calls each at most
 * once per event, batch or request (never per connection per event). A hub without a sink
 * records nothing. `prometheusMetrics()` from `tandem/prometheus` implements it with
 * prom-client; any other system (StatsD, OpenTelemetry, logs) fits the same shape.
 */
export interface MetricsSink {
  /**
   * Called once by `createHub`: `source` reads the hub's gauges. The function returned is
   * called when the hub closes.
   */
  attach?(source: MetricsSource): () => void;
  /** A stream opened. */
  connectionOpened?(): void;
  /** A stream ended. */
  connectionClosed?(reason: CloseReason): void;
  /** An event was published through this hub. */
  published?(): void;
  /** One fan-out batch of a channel was written: `deliveries` is events × connections. */
  delivered?(deliveries: number): void;
  /** Time from publish to the write of a live event to its subscribers, once per event. */
  deliveryLag?(seconds: number): void;
  /** A stream's channel or a poll whose cursor was honoured by a replay of missed events. */
  replayed?(): void;
  /** Events sent from the log rather than live (replays, polls, offline delivery). */
  replayedEvents?(count: number): void;
  /** `channels` channels were told to resync for `reason`. */
  resynced?(reason: ResyncReason, channels: number): void;
  /** A poll was answered. */
  polled?(result: PollResult): void;
  /** A request to `POST {base}/publish` was answered (its events also count in `published`). */
  publishAnswered?(result: PublishResult): void;
  /** A request was refused with a TandemError code. */
  refused?(code: TandemErrorCode): void;
  /**
   * The metrics as text, for `GET {base}/metrics`. Without it (or without the hub's
   * `metricsEndpoint` option) that path answers 404.
   */
  render?(): Promise<RenderedMetrics> | RenderedMetrics;
}

/** Every reporting method of a sink, present: the hub calls them without checks. */
export type MetricsReporter = Required<Omit<MetricsSink, 'attach' | 'render'>>;

const ignore = () => {};

/** The sink's methods bound to it, with a no-op where it has none (every one without a sink). */
export function metricsReporter(sink: MetricsSink | undefined): MetricsReporter {
  const bind = <K extends keyof MetricsReporter>(name: K): MetricsReporter[K] =>
    (sink?.[name]?.bind(sink) as MetricsReporter[K] | undefined) ?? ignore;
  return {
    connectionOpened: bind('connectionOpened'),
    connectionClosed: bind('connectionClosed'),
    published: bind('published'),
    delivered: bind('delivered'),
    deliveryLag: bind('deliveryLag'),
    replayed: bind('replayed'),
    replayedEvents: bind('replayedEvents'),
    resynced: bind('resynced'),
    polled: bind('polled'),
    publishAnswered: bind('publishAnswered'),
    refused: bind('refused'),
  };
}
