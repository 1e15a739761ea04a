import {
  checkNumbers,
  defaultTimers,
  emptyEpoch,
  type LiveEvent,
  MAX_TIMER_MS,
  newEpoch,
  TandemError,
  TimerSlot,
  type Timers,
  unrefTimers,
} from '../protocol';
import { type Broker, type ChannelInfo, emptyContinues, type ReadResult } from './contract';
import { BROKER_DEFAULTS as DEFAULTS } from './defaults';
import { checkIdempotencyKey, IdempotencyKeys } from './idempotency';
import { jsonBytes, rememberJson } from './json';

export interface MemoryBrokerOptions {
  /**
   * How long an event stays replayable, in ms.
   * @default 300_000 (5 minutes)
   */
  retentionMs?: number;
  /**
   * Most events kept per channel; the oldest go first.
   * @default 10_000
   */
  maxEventsPerChannel?: number;
  /**
   * Interval of the one shared sweep that prunes expired events of idle channels, in ms.
   * Busy channels are also pruned on every append and read.
   * @default min(retentionMs, 30_000)
   */
  sweepMs?: number;
  /**
   * A channel untouched (no publish, read or info) for this long and with no live subscriber is
   * dropped, epoch included: a client that comes back later gets `resync`, as after a restart.
   * This bounds the memory of channels that come and go (one per user, per document…).
   * 0 keeps channels forever. The same option, and default, as the Redis broker's.
   * @default 86_400_000 (1 day)
   */
  idleTtlMs?: number;
  /**
   * How long an append's `idempotencyKey` is remembered per channel, in ms: a repeat within it
   * resolves with the first append's event and delivers nothing. The same option, and default,
   * as the Redis broker's.
   * @default 300_000 (5 minutes)
   */
  idempotencyWindowMs?: number;
  /** Timers of the sweep, for tests. @default setTimeout, unref'd in Node */
  timers?: Timers;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

export interface MemoryBrokerStats {
  channels: number;
  events: number;
  listeners: number;
}

export interface MemoryBroker extends Broker {
  /** Sizes, for leak tests and dashboards. */
  stats(): MemoryBrokerStats;
}

/**
 * A channel's log: a growable ring buffer holding offsets `oldest … head` contiguously, so the
 * event with offset `o` sits at ring index `(start + o - oldest) % capacity`.
 */
class Log {
  readonly epoch = newEpoch();
  head = 0;
  ring: (LiveEvent | undefined)[] = new Array(8);
  start = 0;
  size = 0;
  readonly created: number;
  /** Idempotency keys of recent appends (no Map until the first). */
  readonly keys = new IdempotencyKeys();

  constructor(public touchedAt: number) {
    this.created = touchedAt;
  }

  get oldest(): number {
    return this.head - this.size + 1;
  }

  at(i: number): LiveEvent {
    return this.ring[(this.start + i) % this.ring.length]!;
  }

  push(event: LiveEvent, max: number): void {
    if (this.size >= max) this.shift();
    if (this.size === this.ring.length) this.grow(Math.min(max, this.size * 2));
    this.ring[(this.start + this.size) % this.ring.length] = event;
    this.size++;
  }

  shift(): void {
    this.ring[this.start] = undefined;
    this.start = (this.start + 1) % this.ring.length;
    this.size--;
  }

  prune(cutoff: number): void {
    while (this.size > 0 && this.at(0).ts < cutoff) this.shift();
  }

  private grow(capacity: number): void {
    const ring: (LiveEvent | undefined)[] = new Array(capacity);
    for (let i = 0; i < this.size; i++) ring[i] = this.at(i);
    this.ring = ring;
    this.start = 0;
  }
}

/**
 * The event's own copy of published data, parsed from its JSON and frozen: the publisher may
 * change its object afterwards, and neither it nor a reader of the log (poll, replay, the event
 * `publish` resolves with) may change what was published. The JSON is remembered for the
 * encoder, so the frame costs no second `JSON.stringify`.
 */
function frozenCopy(data: unknown, json: string | undefined): unknown {
  const text = json ?? JSON.stringify(data) ?? 'null';
  const copy: unknown = JSON.parse(text);
  rememberJson(copy, text);
  return deepFreeze(copy);
}

function deepFreeze(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}

/**
 * The default broker for one process: a ring buffer per channel, retention by age and count,
 * pruned on use and by one shared sweep (never a timer per channel). A restart loses the logs;
 * their epochs change, so returning clients get `resync`, never a wrong replay.
 */
export function memoryBroker(options: MemoryBrokerOptions = {}): MemoryBroker {
  // A sweep period of 0 would spin; a retention of 0 would keep nothing to replay.
  checkNumbers('memoryBroker', options, {
    retentionMs: { min: 1 },
    maxEventsPerChannel: { min: 1, integer: true },
    sweepMs: { min: 1, max: MAX_TIMER_MS },
    idleTtlMs: {},
    idempotencyWindowMs: {},
  });
  const retentionMs = options.retentionMs ?? DEFAULTS.retentionMs;
  const maxEvents = options.maxEventsPerChannel ?? DEFAULTS.maxEventsPerChannel;
  const sweepMs = options.sweepMs ?? Math.min(retentionMs, 30_000);
  const idleTtlMs = options.idleTtlMs ?? DEFAULTS.idleTtlMs;
  const windowMs = options.idempotencyWindowMs ?? DEFAULTS.idempotencyWindowMs;
  const now = options.now ?? Date.now;
  const logs = new Map<string, Log>();
  /** Live listeners per channel, kept apart from the logs: subscribing creates no log. */
  const listeners = new Map<string, Set<(event: LiveEvent) => void>>();
  /** This broker's empty epochs: a restart loses the logs, so its clients' looks do not count. */
  const source = Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0');
  const sweeper = new TimerSlot(options.timers ?? unrefTimers(defaultTimers));
  const sweepEvery = Number.isFinite(sweepMs) && sweepMs > 0 ? sweepMs : 0;
  let closed = false;

  /** The channel's log, touched and pruned; created only when `create` (a publish). */
  function log(channel: string, create: true): Log;
  function log(channel: string, create?: false): Log | undefined;
  function log(channel: string, create = false): Log | undefined {
    if (closed) throw new TandemError('broker_unavailable', 'the broker is closed');
    const t = now();
    let l = logs.get(channel);
    if (!l) {
      if (!create) return undefined;
      l = new Log(t);
      logs.set(channel, l);
      if (sweepEvery > 0) sweeper.setIfIdle(sweepEvery, sweep);
    }
    l.touchedAt = t;
    l.prune(t - retentionMs);
    return l;
  }

  /** A channel with no log reads as empty: nothing is allocated for it. */
  const empty = (): ReadResult => ({ epoch: emptyEpoch(source, now()), head: 0, oldest: 1, events: [] });

  function sweep(): void {
    const t = now();
    const cutoff = t - retentionMs;
    for (const [channel, l] of logs) {
      if (idleTtlMs > 0 && !listeners.has(channel) && t - l.touchedAt >= idleTtlMs) logs.delete(channel);
      else {
        l.prune(cutoff);
        l.keys.forget(t - windowMs);
      }
    }
    // No channel left: no timer either, until the next one.
    if (logs.size > 0) sweeper.setIfIdle(sweepEvery, sweep);
  }

  function info(l: Log): ChannelInfo {
    return { epoch: l.epoch, head: l.head, oldest: l.oldest, created: l.created };
  }

  return {
    async append(channel, type, data, json, appendOptions) {
      const key = appendOptions?.idempotencyKey;
      checkIdempotencyKey(key);
      const l = log(channel, true);
      // Checked and recorded in the same synchronous step as the append: no repeat slips in.
      const first = l.keys.recall(key, now() - windowMs);
      if (first) return first;
      const event: LiveEvent = {
        channel,
        type,
        data: frozenCopy(data, json),
        offset: l.head + 1,
        epoch: l.epoch,
        ts: now(),
      };
      l.head = event.offset;
      l.push(event, maxEvents);
      if (key !== undefined) l.keys.set(key, event);
      for (const listener of listeners.get(channel) ?? []) {
        try {
          listener(event);
        } catch {
          // A failing listener must not break the append nor the other listeners.
        }
      }
      return event;
    },

    async info(channel) {
      const l = log(channel);
      return l ? info(l) : empty();
    },

    async read(channel, after, limit = Number.POSITIVE_INFINITY, maxBytes?: number): Promise<ReadResult> {
      const l = log(channel);
      if (!l) return empty();
      const from = Math.max(0, after + 1 - l.oldest);
      const to = Math.min(l.size, from + Math.max(0, limit));
      const events: LiveEvent[] = [];
      if (maxBytes === undefined) {
        for (let i = from; i < to; i++) events.push(l.at(i));
      } else {
        // Bounded by the data's JSON: at least one event, so a bounded reader always moves on.
        let bytes = 0;
        for (let i = from; i < to && (bytes < maxBytes || events.length === 0); i++) {
          const event = l.at(i);
          bytes += jsonBytes(event.data);
          events.push(event);
        }
      }
      // A literal, not a spread of info(): this runs for every stream that resumes.
      return { epoch: l.epoch, head: l.head, oldest: l.oldest, events, created: l.created };
    },

    continues: (emptyEpoch, l) => emptyContinues(emptyEpoch, l, source, idleTtlMs),

    subscribe(channel, listener) {
      if (closed) throw new TandemError('broker_unavailable', 'the broker is closed');
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
      }
      const current = set;
      // Wrapped, so one listener subscribed twice is two subscriptions, each removable once.
      const entry = (event: LiveEvent) => listener(event);
      current.add(entry);
      return () => {
        current.delete(entry);
        if (current.size === 0 && listeners.get(channel) === current) listeners.delete(channel);
        // Idle from now: a channel is not dropped while it has subscribers.
        const l = logs.get(channel);
        if (l) l.touchedAt = now();
      };
    },

    async close() {
      closed = true;
      sweeper.clear();
      listeners.clear();
      logs.clear();
    },

    stats() {
      let events = 0;
      let count = 0;
      for (const l of logs.values()) events += l.size;
      for (const set of listeners.values()) count += set.size;
      return { channels: logs.size, events, listeners: count };
    },
  };
}
