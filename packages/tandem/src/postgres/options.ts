import type { Pool } from 'pg';
import type { Broker } from '../broker';

/** Options of `postgresBroker`: where the database is, the schema, retention and timings. */
export interface PostgresBrokerOptions {
  /**
   * PostgreSQL URL, e.g. `postgres://app@localhost:5432/app`. Ignored when `pool` is given.
   * @default undefined (one of `connectionString` and `pool` is required)
   */
  connectionString?: string;
  /**
   * A node-postgres pool to use instead of creating one. The broker holds one of its clients
   * for `LISTEN` as long as it is open, and never ends the pool.
   * @default undefined
   */
  pool?: Pool;
  /**
   * The schema holding Tandem's tables and functions (created if absent): 1-63 characters from
   * `[a-z0-9_]`. Its name is also the NOTIFY channel.
   * @default 'tandem'
   */
  schema?: string;
  /**
   * Create or upgrade the schema at start (under an advisory lock, so hubs starting at once
   * are safe). `false` for teams that apply `postgresSchemaSql()` with their own migrations: the
   * broker then only checks the version.
   * @default true
   */
  migrate?: boolean;
  /**
   * How long events are kept, in ms.
   * @default 300_000 (5 minutes)
   */
  retentionMs?: number;
  /**
   * Most events kept per channel.
   * @default 10_000
   */
  maxEventsPerChannel?: number;
  /**
   * A channel with no publish for this long, and followed by no hub, is deleted, epoch
   * included; a client that comes back later gets `resync`. 0 keeps channels forever.
   * @default 86_400_000 (1 day)
   */
  idleTtlMs?: number;
  /**
   * How long an idempotency key given to `append` is remembered per channel, in ms; 0 remembers none.
   * @default 300_000 (5 minutes)
   */
  idempotencyWindowMs?: number;
  /**
   * Longest wait for a connection and for one statement, in ms. A publish waiting longer for a
   * channel held by a long transaction rejects with `broker_unavailable`.
   * @default 2000
   */
  commandTimeoutMs?: number;
  /**
   * Every this many ms, the hub reads the heads of the channels it follows (one query for all)
   * and repairs from the log any channel whose notifications were lost. 0 turns it off.
   * @default 10_000
   */
  headCheckMs?: number;
  /**
   * Every this many ms, the hub deletes a batch of what retention no longer keeps.
   * @default 10_000
   */
  sweepMs?: number;
  /**
   * Receives errors thrown by live-feed listeners.
   * @default undefined (ignored)
   */
  onListenerError?: (error: unknown) => void;
}

/** A broker whose log is in PostgreSQL (see `postgresBroker`). */
export interface PostgresBroker extends Broker {
  /** Resolves when the schema is ready and the live feed listens. */
  ready(): Promise<void>;
  /** Channels this process follows and what the broker did, for tests and dashboards. */
  stats(): PostgresBrokerStats;
}

/** What `PostgresBroker.stats()` reports. */
export interface PostgresBrokerStats {
  /** Channels this process follows (has live-feed listeners for). */
  channels: number;
  /** Live-feed listeners in all. */
  listeners: number;
  /** Head checks made (see `headCheckMs`). */
  headChecks: number;
  /** Channels the head checks found behind their log (notifications lost) and repaired. */
  headRepairs: number;
  /** The backend pid of the connection that LISTENs; undefined while it is down. */
  listenerPid: number | undefined;
}
