/** What the benchmark needs from each server under test, whatever library it runs. */
export interface BenchServer {
  port: number;
  /** Sends one event to every subscriber of the channel. */
  publish(channel: string, data: BenchPayload): unknown;
  /** Open subscriber connections. */
  connections(): number;
  /** Drops every subscriber connection now; returns how many. */
  disconnectAll(): number;
  /** Tandem only (scenario H): publishes `count` events of `size` bytes to each channel. */
  seed?(channels: string[], count: number, size: number): Promise<number>;
  /** Tandem only: the hub's internal sizes. */
  stats?(): unknown;
  /**
   * Tandem on Redis only (S8): appends an event to the channel's log with the broker's own
   * script but notifies no one, as if pub/sub had lost the notification; resolves with its offset.
   */
  silentAppend?(channel: string, data: BenchPayload): Promise<number>;
  close(): Promise<void>;
}

export interface ServerOptions {
  heartbeatMs: number;
  /** Tandem only: use the Redis broker at this URL instead of the memory broker. */
  redisUrl?: string | undefined;
  /** Tandem only: use the PostgreSQL broker at this URL instead of the memory broker. */
  databaseUrl?: string | undefined;
}

/** Every event the benchmark sends: its send time (ms, CLOCK_MONOTONIC, see lib/clock) and padding. */
export interface BenchPayload {
  bt: number;
  p: string;
}

export const CHANNEL = 'bench';
export const EVENT_TYPE = 'tick';

/** Listens on loopback with a backlog that absorbs a reconnect storm. */
export function listenOptions(): { host: string; port: number; backlog: number } {
  return { host: '127.0.0.1', port: 0, backlog: 8192 };
}
