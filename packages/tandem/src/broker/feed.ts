/**
 * The live feed of one process, shared by the Redis and PostgreSQL brokers: notifications
 * (pub/sub, LISTEN) come in per channel and go out to local listeners in offset order without
 * holes. They are at most once (a dropped connection loses what was sent meanwhile), so the feed
 * tracks the last offset delivered per channel and repairs any hole from the log before
 * delivering past it; a notification carrying only a position (an event too large for it)
 * becomes a read of the log. It knows no broker: the log is reached through `FeedSource`, so the
 * ordering rules are tested without a server.
 */

import type { LiveEvent } from '../protocol';
import type { ReadResult } from './contract';
import type { FeedOptions, FeedSource, Listener } from './feed-source';

/** The data of a notification that carried only its event's position. */
const POSITION_ONLY: unknown = Object.freeze({});

interface ChannelState {
  readonly channel: string;
  readonly listeners: Set<Listener>;
  /** Epoch of the last delivered position; undefined until known. */
  epoch: string | undefined;
  last: number;
  /** The baseline position is known. */
  ready: boolean;
  /**
   * Something was delivered or repaired. Before that, `last` is only the baseline taken at
   * subscribe, and a notification at or below it that arrives now is still delivered: it was
   * published around the time of `subscribe`, possibly through another connection.
   */
  started: boolean;
  /** The live feed may have missed events: read the log before trusting it again. */
  stale: boolean;
  /** The baseline could not be taken: the next repair only takes the current head. */
  unknown: boolean;
  queue: LiveEvent[];
  running: boolean;
  closed: boolean;
  /** Epochs this channel moved away from: their late notifications are dropped. */
  retired: Set<string>;
}

export class LiveFeed {
  readonly #source: FeedSource;
  readonly #retryMs: number;
  readonly #onListenerError: (error: unknown) => void;
  readonly #channels = new Map<string, ChannelState>();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(source: FeedSource, options: FeedOptions = {}) {
    this.#source = source;
    this.#retryMs = options.retryMs ?? 250;
    this.#onListenerError = options.onListenerError ?? (() => {});
  }

  /** Channels with at least one listener, and listeners in all. */
  stats(): { channels: number; listeners: number } {
    let listeners = 0;
    for (const state of this.#channels.values()) listeners += state.listeners.size;
    return { channels: this.#channels.size, listeners };
  }

  has(channel: string): boolean {
    return this.#channels.has(channel);
  }

  /** The channels followed. */
  channels(): string[] {
    return [...this.#channels.keys()];
  }

  /**
   * Whether the log, at `epoch` and `head`, is ahead of what the channel delivered; with
   * `repair`, a channel behind reads the log now and delivers what it missed, as for a hole.
   */
  behind(channel: string, epoch: string | undefined, head: number, repair = false): boolean {
    const s = this.#channels.get(channel);
    if (!s?.ready || s.unknown || epoch === undefined || s.retired.has(epoch)) return false;
    // An empty log of another epoch (created by a read) has nothing to miss yet.
    if (epoch === s.epoch ? head <= s.last : head === 0) return false;
    if (repair) {
      s.stale = true;
      void this.#pump(s);
    }
    return true;
  }

  subscribe(channel: string, listener: Listener): () => void {
    let state = this.#channels.get(channel);
    if (!state) {
      const created: ChannelState = {
        channel,
        listeners: new Set(),
        epoch: undefined,
        last: 0,
        ready: false,
        started: false,
        stale: false,
        unknown: false,
        queue: [],
        running: false,
        closed: false,
        retired: new Set(),
      };
      state = created;
      this.#channels.set(channel, created);
      this.#source.position(channel).then(
        (position) => {
          created.epoch = position.epoch;
          created.last = position.head;
          created.ready = true;
          this.#pump(created);
        },
        () => {
          created.ready = true;
          created.stale = true;
          created.unknown = true;
          this.#scheduleRetry();
        },
      );
    }
    const current = state;
    // Wrapped, so one function subscribed twice is two subscriptions, each removable once.
    const entry: Listener = (event) => listener(event);
    current.listeners.add(entry);
    return () => {
      current.listeners.delete(entry);
      if (current.listeners.size === 0 && this.#channels.get(channel) === current) {
        current.closed = true;
        this.#channels.delete(channel);
      }
    };
  }

  /** A notification that carried only the position of its event: the event is read from the log. */
  notifyPosition(channel: string, epoch: string, offset: number): void {
    this.notify({ channel, epoch, offset, type: '', data: POSITION_ONLY, ts: 0 });
  }

  /** A notification from the broker's live channel (pub/sub, LISTEN). */
  notify(event: LiveEvent): void {
    const state = this.#channels.get(event.channel);
    if (!state) return;
    const whole = event.data !== POSITION_ONLY;
    if (whole && state.ready && !state.stale && !state.running && state.queue.length === 0) {
      if (state.epoch === event.epoch && !state.started && event.offset <= state.last) {
        state.last = event.offset - 1;
      }
      if (state.epoch === event.epoch && event.offset === state.last + 1) {
        state.started = true;
        state.last = event.offset;
        this.#deliver(state, event);
        return;
      }
    }
    state.queue.push(event);
    this.#pump(state);
  }

  /** The feed may have missed notifications (its connection came back): repair every channel. */
  repairAll(): void {
    for (const state of this.#channels.values()) {
      state.stale = true;
      this.#pump(state);
    }
  }

  /** Retries pending repairs now (e.g. the connection for reads is back). */
  retry(): void {
    for (const state of this.#channels.values()) {
      if (state.stale) this.#pump(state);
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    for (const state of this.#channels.values()) state.closed = true;
    this.#channels.clear();
  }

  async #pump(state: ChannelState): Promise<void> {
    if (state.running || !state.ready) return;
    state.running = true;
    try {
      while (!state.closed && !this.#closed) {
        if (state.stale) {
          let result: ReadResult;
          try {
            result = await this.#source.read(
              state.channel,
              state.unknown ? Number.MAX_SAFE_INTEGER : state.last,
              state.unknown ? undefined : state.epoch,
            );
          } catch {
            this.#scheduleRetry();
            return;
          }
          state.stale = false;
          if (state.unknown) {
            state.unknown = false;
            state.epoch = result.epoch;
            state.last = result.head;
          } else {
            this.#apply(state, result);
            state.started = true;
          }
          continue;
        }
        const event = state.queue[0];
        if (!event) return;
        if (state.retired.has(event.epoch)) {
          state.queue.shift();
          continue;
        }
        if (event.epoch === state.epoch) {
          if (!state.started && event.offset <= state.last) state.last = event.offset - 1;
          if (event.offset <= state.last) {
            state.queue.shift();
            continue;
          }
          if (event.data === POSITION_ONLY) {
            // The event is in the log, after `last`: read it from there.
            state.queue.shift();
            state.stale = true;
            continue;
          }
          if (event.offset === state.last + 1) {
            state.queue.shift();
            state.started = true;
            state.last = event.offset;
            this.#deliver(state, event);
            continue;
          }
        } else if (event.offset === 1 && event.data !== POSITION_ONLY) {
          // The first event of a new log: nothing before it to repair.
          state.queue.shift();
          this.#adopt(state, event.epoch);
          state.last = 1;
          this.#deliver(state, event);
          continue;
        }
        // A hole, or a new log seen mid-way: read the log; the event is then covered by it
        // (it was stored before it was published) and is dropped as a duplicate.
        state.stale = true;
      }
    } finally {
      state.running = false;
    }
  }

  #apply(state: ChannelState, result: ReadResult): void {
    if (result.epoch !== state.epoch) this.#adopt(state, result.epoch);
    for (const event of result.events) {
      if (event.offset <= state.last && state.epoch === event.epoch) continue;
      // A hole the log cannot fill any more (trimmed) is delivered as is: the hub sees the
      // jump and tells its clients to resync.
      state.last = event.offset;
      this.#deliver(state, event);
    }
    if (result.head < state.last) {
      // Offsets we delivered are gone while the epoch stayed: new events would reuse them and
      // look like duplicates. Retire the log; its next event carries a new epoch → resync.
      this.#source.rewound(state.channel, state.epoch!, state.last).catch(() => {});
    }
    state.last = Math.max(state.last, result.head);
  }

  #adopt(state: ChannelState, epoch: string): void {
    if (state.epoch !== undefined) state.retired.add(state.epoch);
    state.retired.delete(epoch);
    state.epoch = epoch;
    state.last = 0;
    state.started = true;
  }

  #deliver(state: ChannelState, event: LiveEvent): void {
    for (const listener of state.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.retry();
    }, this.#retryMs);
    this.#retryTimer.unref?.();
  }
}
