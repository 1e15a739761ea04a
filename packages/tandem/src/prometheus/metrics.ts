import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ResyncReason, TandemErrorCode } from '../protocol';
import type {
  CloseReason,
  MetricsSink,
  MetricsSource,
  PollResult,
  PublishResult,
  RenderedMetrics,
} from '../server';

export interface PrometheusMetricsOptions {
  /**
   * Prefix of every metric name.
   * @default 'tandem_'
   */
  prefix?: string;
  /**
   * The registry to register the metrics in. Give each hub its own sink: two sinks with one
   * prefix cannot share a registry (prom-client refuses a second metric of the same name).
   * @default a new Registry, so two hubs in one process (tests, a dev reload) never collide
   */
  registry?: Registry;
}

/** A hub's metrics in a prom-client registry; `render()` is what `GET {base}/metrics` serves. */
export interface PrometheusMetrics extends MetricsSink {
  readonly registry: Registry;
  render(): Promise<RenderedMetrics>;
}

/**
 * A `MetricsSink` for `createHub({ metrics })` backed by prom-client (an optional peer
 * dependency, loaded only by this module):
 *
 * ```ts
 * const metrics = prometheusMetrics();
 * const hub = createHub({ metrics, metricsEndpoint: { authorize: (r) => isOps(r) } });
 * ```
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  return new PrometheusSink(options.prefix ?? 'tandem_', options.registry ?? new Registry());
}

class PrometheusSink implements PrometheusMetrics {
  /** The hubs reporting here; the connections gauge adds theirs up. */
  private readonly sources = new Set<MetricsSource>();
  private readonly connectionsOpened: Counter;
  private readonly connectionsClosed: Counter<'reason'>;
  private readonly publishes: Counter;
  private readonly deliveries: Counter;
  private readonly deliveryLagSeconds: Histogram;
  private readonly replays: Counter;
  private readonly replayedEventsTotal: Counter;
  private readonly resyncs: Counter<'reason'>;
  private readonly slowConsumerDrops: Counter;
  private readonly polls: Counter<'result'>;
  private readonly publishRequests: Counter<'result'>;
  private readonly errors: Counter<'code'>;

  constructor(
    prefix: string,
    readonly registry: Registry,
  ) {
    const registers = [registry];
    const sources = this.sources;
    new Gauge({
      name: `${prefix}connections`,
      help: 'Open event streams.',
      registers,
      collect() {
        let open = 0;
        for (const source of sources) open += source.connections();
        this.set(open);
      },
    });
    const counter = <L extends string = never>(name: string, help: string, labelNames: L[] = []) =>
      new Counter<L>({ name: `${prefix}${name}`, help, labelNames, registers });
    this.connectionsOpened = counter('connections_opened_total', 'Event streams opened.');
    this.connectionsClosed = counter('connections_closed_total', 'Event streams closed, by reason.', [
      'reason',
    ]);
    this.publishes = counter('publishes_total', 'Events published.');
    this.deliveries = counter(
      'deliveries_total',
      'Live events written to streams (one per event per connection).',
    );
    this.deliveryLagSeconds = new Histogram({
      name: `${prefix}delivery_lag_seconds`,
      help: 'Time from publish to the write of a live event to its subscribers.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.replays = counter(
      'replays_total',
      'Streams and polls whose cursor was honoured by a replay of missed events.',
    );
    this.replayedEventsTotal = counter(
      'replayed_events_total',
      'Events sent from the log rather than live (replays, polls, offline delivery).',
    );
    this.resyncs = counter('resyncs_total', 'Channels told to resync, by reason.', ['reason']);
    this.slowConsumerDrops = counter(
      'slow_consumer_drops_total',
      'Streams closed because their unsent bytes passed maxBufferedBytes.',
    );
    this.polls = counter('polls_total', 'Poll requests answered, by result.', ['result']);
    this.publishRequests = counter(
      'publish_requests_total',
      'Requests to POST /publish answered, by result: ok, partial (a batch with refused events) or the error code.',
      ['result'],
    );
    this.errors = counter('errors_total', 'Requests refused, by error code.', ['code']);
  }

  attach(source: MetricsSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  connectionOpened(): void {
    this.connectionsOpened.inc();
  }

  connectionClosed(reason: CloseReason): void {
    this.connectionsClosed.inc({ reason });
    if (reason === 'slow_consumer') this.slowConsumerDrops.inc();
  }

  published(): void {
    this.publishes.inc();
  }

  delivered(deliveries: number): void {
    this.deliveries.inc(deliveries);
  }

  deliveryLag(seconds: number): void {
    this.deliveryLagSeconds.observe(seconds);
  }

  replayed(): void {
    this.replays.inc();
  }

  replayedEvents(count: number): void {
    this.replayedEventsTotal.inc(count);
  }

  resynced(reason: ResyncReason, channels: number): void {
    this.resyncs.inc({ reason }, channels);
  }

  polled(result: PollResult): void {
    this.polls.inc({ result });
  }

  publishAnswered(result: PublishResult): void {
    this.publishRequests.inc({ result });
  }

  refused(code: TandemErrorCode): void {
    this.errors.inc({ code });
  }

  async render(): Promise<RenderedMetrics> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
