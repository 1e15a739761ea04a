import type { Broker } from '../broker';
import type { LiveEvent, PingHead } from '../protocol';
import { concatBytes } from './bytes';
import type { Connection } from './connection';
import { type EncodedEvent, encodeEvent } from './encode';
import { SharedBytes } from './sink';
import { defer, SlicedCalls } from './slices';

/** Called for every live event of a channel, e.g. to wake long polls. */
type Waiter = (event: LiveEvent) => void;

/** Counts the fan-out reports, once per channel per tick rather than per connection. */
interface FanoutObserver {
  delivered(batch: readonly EncodedEvent[], deliveries: number, now: number): void;
}

/** One broker subscription per channel, shared by every connection and long poll on it. */
class Feed {
  readonly subscribers = new Map<Connection, number>();
  readonly waiters = new Set<Waiter>();
  batch: EncodedEvent[] = [];
  /** The newest event delivered to the subscribers, or seen in the log when a stream started. */
  head: PingHead | undefined;
  unsubscribe: () => void = () => {};
  constructor(
    readonly channel: string,
    /** Names the channel on compact streams: unique among this hub's feeds, never reused. */
    readonly id: string,
  ) {}
  get empty(): boolean {
    return this.subscribers.size === 0 && this.waiters.size === 0;
  }
}

/**
 * Fan-out: each live event is serialised once (`encodeEvent`) and queued on its channel; at the
 * end of the tick every channel's batch goes to its subscribers (a single-channel connection,
 * and a compact one whatever its channels, gets one byte array shared by all of them), then
 * each touched connection makes one write.
 */
export class Fanout {
  private readonly feeds = new Map<string, Feed>();
  private readonly dirtyFeeds = new Set<Feed>();
  private readonly dirtyConnections = new Set<Connection>();
  private scheduled = false;
  private feedIds = 0;
  private readonly wakes = new SlicedCalls();

  constructor(
    private readonly broker: Broker,
    private readonly observer: FanoutObserver,
    private readonly now: () => number,
  ) {}

  private feed(channel: string): Feed {
    let feed = this.feeds.get(channel);
    if (!feed) {
      const created = new Feed(channel, (this.feedIds++).toString(36));
      feed = created;
      this.feeds.set(channel, created);
      created.unsubscribe = this.broker.subscribe(channel, (event) => this.arrive(created, event));
    }
    return feed;
  }

  private arrive(feed: Feed, event: LiveEvent): void {
    if (feed.subscribers.size > 0) {
      feed.batch.push(encodeEvent(event));
      this.dirtyFeeds.add(feed);
      this.schedule();
    }
    if (feed.waiters.size > 0) {
      const waiters = [...feed.waiters];
      feed.waiters.clear();
      // In slices: each woken long poll reads the log and answers, and thousands of them in
      // one task would hold the event loop.
      for (const waiter of waiters) this.wakes.push(() => waiter(event));
      this.release(feed);
    }
  }

  /**
   * Attaches a connection's live listeners; do it before reading the log (resume step 1). A
   * compact connection learns the id of each of its channels, which its hello announces.
   */
  attach(connection: Connection): void {
    const ids = connection.compactIds;
    connection.channels.forEach((channel, slot) => {
      const feed = this.feed(channel);
      feed.subscribers.set(connection, slot);
      if (ids) ids[slot] = feed.id;
    });
  }

  detach(connection: Connection): void {
    for (const channel of connection.channels) {
      const feed = this.feeds.get(channel);
      if (!feed) continue;
      feed.subscribers.delete(connection);
      this.release(feed);
    }
    this.dirtyConnections.delete(connection);
  }

  /** Calls `waiter` once, at the next event on any of `channels`; returns the cancel function. */
  wait(channels: readonly string[], waiter: Waiter): () => void {
    let done = false;
    const once: Waiter = (event) => {
      if (done) return;
      done = true;
      cancel();
      waiter(event);
    };
    const cancel = () => {
      done = true;
      for (const channel of channels) {
        const feed = this.feeds.get(channel);
        if (!feed) continue;
        feed.waiters.delete(once);
        this.release(feed);
      }
    };
    for (const channel of channels) this.feed(channel).waiters.add(once);
    return cancel;
  }

  /**
   * The channel's head as this hub knows it: the newest event delivered to its streams, or a
   * newer one a stream's start read from the log. Undefined for a channel without streams here,
   * or whose head nothing has told yet.
   */
  head(channel: string): PingHead | undefined {
    return this.feeds.get(channel)?.head;
  }

  /**
   * A head read from the log (a stream's start). Within the known epoch it only moves forward;
   * an unknown epoch is left to the live feed, whose first event of it says it.
   */
  learn(channel: string, epoch: string, offset: number): void {
    const feed = this.feeds.get(channel);
    if (!feed) return;
    if (!feed.head || (feed.head[0] === epoch && feed.head[1] < offset)) feed.head = [epoch, offset];
  }

  markDirty(connection: Connection): void {
    this.dirtyConnections.add(connection);
    this.schedule();
  }

  private release(feed: Feed): void {
    if (!feed.empty || this.feeds.get(feed.channel) !== feed) return;
    this.feeds.delete(feed.channel);
    this.dirtyFeeds.delete(feed);
    feed.unsubscribe();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    defer(() => this.flush());
  }

  /** Delivers every queued batch, then writes each touched connection once. */
  flush(): void {
    this.scheduled = false;
    const now = this.now();
    for (const feed of this.dirtyFeeds) {
      const batch = feed.batch;
      feed.batch = [];
      if (batch.length === 0) continue;
      let contiguous = true;
      for (let i = 1; i < batch.length && contiguous; i++) {
        const a = batch[i - 1]!.event;
        const b = batch[i]!.event;
        contiguous = a.epoch === b.epoch && b.offset === a.offset + 1;
      }
      // Built on first use: only connections at the next offset take them, single-channel
      // classic ones the frames with `id:`, compact ones the compact frames.
      const shared = new SharedBytes(() =>
        batch.length === 1 ? batch[0]!.full : concatBytes(batch.map((e) => e.full)),
      );
      const id = feed.id;
      const compact = new SharedBytes(() =>
        batch.length === 1 ? batch[0]!.compact(id) : concatBytes(batch.map((e) => e.compact(id))),
      );
      let deliveries = 0;
      for (const [connection, slot] of feed.subscribers) {
        deliveries += connection.receive(slot, batch, connection.compactIds ? compact : shared, contiguous);
      }
      const last = batch[batch.length - 1]!.event;
      const head = feed.head;
      if (!head || head[0] !== last.epoch || head[1] < last.offset) feed.head = [last.epoch, last.offset];
      this.observer.delivered(batch, deliveries, now);
    }
    this.dirtyFeeds.clear();
    for (const connection of this.dirtyConnections) connection.flush();
    this.dirtyConnections.clear();
  }

  /** Sizes, for leak tests: channels with a broker subscription, attached connections, waiters. */
  stats(): { channels: number; subscribers: number; waiters: number } {
    let subscribers = 0;
    let waiters = 0;
    for (const feed of this.feeds.values()) {
      subscribers += feed.subscribers.size;
      waiters += feed.waiters.size;
    }
    return { channels: this.feeds.size, subscribers, waiters };
  }

  /** Drops every subscription (hub shutdown). */
  close(): void {
    for (const feed of this.feeds.values()) feed.unsubscribe();
    this.feeds.clear();
    this.dirtyFeeds.clear();
    this.dirtyConnections.clear();
  }
}
