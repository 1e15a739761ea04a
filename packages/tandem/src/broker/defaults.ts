/** The brokers' retention defaults, shared by the memory and the Redis broker. */
export const BROKER_DEFAULTS = {
  /** How long events stay retained for clients that are away: 5 minutes. */
  retentionMs: 300_000,
  /** Most events retained per channel. */
  maxEventsPerChannel: 10_000,
  /** A channel untouched this long (and unsubscribed) is dropped; 0 keeps it. */
  idleTtlMs: 86_400_000,
  /** How long an append's idempotency key is remembered per channel: 5 minutes. */
  idempotencyWindowMs: 300_000,
} as const;
