import type { Broker } from '../broker';

/** The part of a node-redis v5 client the broker uses. */
export interface RedisClientLike {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>;
  duplicate(overrides?: Record<string, unknown>): RedisClientLike;
  pSubscribe(pattern: string, listener: (message: string, channel: string) => unknown): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  close(): Promise<void>;
  destroy(): void;
}

export interface RedisBrokerOptions {
  /**
   * Redis URL, e.g. `redis://localhost:6379`. Ignored when `client` is given.
   * @default node-redis's default, `redis://localhost:6379`
   */
  url?: string;
  /**
   * A node-redis v5 client to use instead of creating one (connected or not). The broker
   * duplicates it for its subscription and never closes it. Give it
   * `disableOfflineQueue: true`, or publishes wait for a reconnect up to `commandTimeoutMs`.
   * @default undefined (the broker creates its own from `url`)
   */
  client?: RedisClientLike;
  /**
   * Prefix of every key and pub/sub channel; non-empty, without any of `{}*?[]\`.
   * @default 'tandem'
   */
  prefix?: string;
  /**
   * How long events are kept, in ms (≥ 1).
   * @default 300_000 (5 minutes)
   */
  retentionMs?: number;
  /**
   * Most events kept per channel (a whole number ≥ 1); also the most idempotency keys
   * remembered per channel.
   * @default 10_000
   */
  maxEventsPerChannel?: number;
  /**
   * A channel untouched (no publish, read or info) for this long is deleted from Redis, epoch
   * included; a client that comes back later gets `resync`. Default 86 400 000 (1 day); 0 keeps
   * channels forever. Whole ms (Redis expires keys by whole ms).
   * @default 86_400_000 (1 day)
   */
  idleTtlMs?: number;
  /**
   * Presence (`createHub({ presence })`): a hub's members expire this long, in whole ms, after
   * it last refreshed them (it does every third of it), so a hub killed with -9 leaves no
   * member behind for longer than this plus a third. See docs/presence.md.
   * @default 30_000
   */
  presenceTtlMs?: number;
  /**
   * Longest wait for one Redis command, and for the first connection after start, in ms
   * (1 to 2 147 483 647, a timer's reach). Once connected, a command while Redis is unreachable fails at once.
   * @default 2000
   */
  commandTimeoutMs?: number;
  /**
   * How long an append's `idempotencyKey` is remembered per channel, in whole ms: a repeat
   * within it resolves with the first append's event and appends nothing. 0 remembers none.
   * @default 300_000 (5 minutes)
   */
  idempotencyWindowMs?: number;
  /**
   * Receives errors thrown by live-feed listeners.
   * @default undefined (ignored)
   */
  onListenerError?: (error: unknown) => void;
  /**
   * Every this many ms, the process reads the heads of the channels it follows (one round trip
   * for all of them) and repairs from the log any channel whose pub/sub notifications were
   * lost, so that no loss stays unseen longer than this. 0 turns the check off. At most
   * 2 147 483 647 (a timer's reach).
   * @default 10_000
   */
  headCheckMs?: number;
}

export interface RedisBroker extends Broker {
  /** Resolves when both connections are up and the live feed is subscribed. */
  ready(): Promise<void>;
  /** Channels this process follows and their local listeners, for leak tests and dashboards. */
  stats(): RedisBrokerStats;
}

export interface RedisBrokerStats {
  channels: number;
  listeners: number;
  /** Head checks made (see `headCheckMs`). */
  headChecks: number;
  /** Channels the head checks found behind their log (notifications lost) and repaired. */
  headRepairs: number;
}
