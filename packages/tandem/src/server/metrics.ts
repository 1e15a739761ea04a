import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ResyncReason } from '../protocol';
import type { EncodedEvent } from './encode';

export type PollResult = 'events' | 'empty' | 'not_modified' | 'resync';

/**
 * The hub's Prometheus metrics, in a registry of its own: two hubs in one process (tests, a
 * dev reload) never collide in prom-client's global registry. Counters are bumped once per
 * batch, never per connection per event.
 */
export class HubMetrics {
  readonly registry = new Registry();
  readonly connectionsOpened: Counter;
  readonly connectionsClosed: Counter<'reason'>;
  readonly publishes: Counter;
  readonly deliveries: Counter;
  readonly deliveryLag: Histogram;
  readonly replays: Counter;
  readonly replayedEvents: Counter;
  readonly resyncs: Counter<'reason'>;
  readonly slowConsumerDrops: Counter;
  readonly polls: Counter<'result'>;
  readonly errors: Counter<'code'>;

  constructor(prefix: string, connections: () => number) {
    const registers = [this.registry];
    new Gauge({
      name: `${prefix}connections`,
      help: 'Open event streams.',
      registers,
      collect() {
        this.set(connections());
      },
    });
    this.connectionsOpened = new Counter({
      name: `${prefix}connections_opened_total`,
      help: 'Event streams opened.',
      registers,
    });
    this.connectionsClosed = new Counter({
      name: `${prefix}connections_closed_total`,
      help: 'Event streams closed, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.publishes = new Counter({ name: `${prefix}publishes_total`, help: 'Events published.', registers });
    this.deliveries = new Counter({
      name: `${prefix}deliveries_total`,
      help: 'Live events written to streams (one per event per connection).',
      registers,
    });
    this.deliveryLag = new Histogram({
      name: `${prefix}delivery_lag_seconds`,
      help: 'Time from publish to the write of a live event to its subscribers.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.replays = new Counter({
      name: `${prefix}replays_total`,
      help: 'Streams and polls whose cursor was honoured by a replay of missed events.',
      registers,
    });
    this.replayedEvents = new Counter({
      name: `${prefix}replayed_events_total`,
      help: 'Events sent from the log rather than live (replays, polls, offline delivery).',
      registers,
    });
    this.resyncs = new Counter({
      name: `${prefix}resyncs_total`,
      help: 'Channels told to resync, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.slowConsumerDrops = new Counter({
      name: `${prefix}slow_consumer_drops_total`,
      help: 'Streams closed because their unsent bytes passed maxBufferedBytes.',
      registers,
    });
    this.polls = new Counter({
      name: `${prefix}polls_total`,
      help: 'Poll requests answered, by result.',
      labelNames: ['result'],
      registers,
    });
    this.errors = new Counter({
      name: `${prefix}errors_total`,
      help: 'Requests refused, by error code.',
      labelNames: ['code'],
      registers,
    });
  }

  resynced(reason: ResyncReason, count: number): void {
    this.resyncs.inc({ reason }, count);
  }

  delivered(batch: readonly EncodedEvent[], deliveries: number, now: number): void {
    if (deliveries === 0) return;
    this.deliveries.inc(deliveries);
    for (const { event } of batch) this.deliveryLag.observe(Math.max(0, now - event.ts) / 1000);
  }
}
