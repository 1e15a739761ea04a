/**
 * The SQL objects of the PostgreSQL broker, as one script: idempotent (every object is created
 * only if absent or replaced in place) and serialised by an advisory lock, so that any number
 * of hubs may run it at once, and a team may run it itself through `psql`. A row in
 * `<schema>.meta` records the version; a later version only adds to what an earlier one made.
 *
 * - `channels`: one row per channel with a log: its epoch, its head (last offset), the last
 *   event's time (kept monotonic), when the log was created and last used. `publish` locks the
 *   row until commit, so offsets follow commit order and a rolled-back publish leaves no hole.
 * - `events`: one row per retained event, keyed by (channel, offset); `data` is stored as
 *   `json`, whose text is kept exactly as published.
 * - `idempotency`: the keys accepted per channel and the event each one made, until `expires`.
 * - `append` (internal) and `publish` (public): the publishing functions; `read`: one channel's
 *   position and events in one round trip; `sweep`: retention, a batch at a time.
 */

import { functionsSql } from './functions';

/** The version this code creates and needs. */
export const SCHEMA_VERSION = 1;

/** First half of the migration's advisory lock: "Tand" in ASCII. */
const LOCK_CLASS = 0x54616e64;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: unknown): asserts schema is string {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new RangeError('schema must be 1-63 characters from [a-z0-9_], not starting with a digit');
  }
}

/** The advisory lock (two int4 keys) that serialises migrations of one schema. */
function migrationLock(schema: string): [number, number] {
  // FNV-1a: a stable 32-bit hash of the name, as a signed int4.
  let hash = 0x811c9dc5;
  for (let i = 0; i < schema.length; i++) {
    hash ^= schema.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return [LOCK_CLASS, hash | 0];
}

/**
 * The whole schema of version `SCHEMA_VERSION` as one transaction, for `psql -f` or a migration
 * tool. Running it again changes nothing; it waits while another hub migrates the same schema.
 */
export function postgresSchemaSql(schema = 'tandem'): string {
  assertSchemaName(schema);
  const s = `"${schema}"`;
  const [lockClass, lockKey] = migrationLock(schema);
  return `begin;
select pg_advisory_xact_lock(${lockClass}, ${lockKey});
create schema if not exists ${s};

create table if not exists ${s}.meta (
  id boolean primary key default true check (id),
  version integer not null,
  -- Names this schema's empty epochs: a schema dropped and created again gets another.
  source text not null
);
insert into ${s}.meta (version, source)
  values (${SCHEMA_VERSION}, substr(md5(random()::text), 1, 4))
  on conflict (id) do update set version = greatest(${s}.meta.version, excluded.version);

create table if not exists ${s}.channels (
  channel text primary key,
  epoch text not null,
  head bigint not null,
  ts bigint not null,
  created bigint not null,
  touched bigint not null
);

create table if not exists ${s}.events (
  channel text not null,
  "offset" bigint not null,
  ts bigint not null,
  type text not null,
  data json not null,
  primary key (channel, "offset")
);
create index if not exists events_ts on ${s}.events (ts);

create table if not exists ${s}.idempotency (
  channel text not null,
  key text not null,
  epoch text not null,
  "offset" bigint not null,
  ts bigint not null,
  expires bigint not null,
  primary key (channel, key)
);
create index if not exists idempotency_expires on ${s}.idempotency (expires);

${functionsSql(s)}
commit;
`;
}
