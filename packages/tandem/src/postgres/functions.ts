/**
 * The functions of the PostgreSQL broker's schema (see `schema.ts`), as SQL. `publish` is the
 * public one; the hubs call the others, each in one round trip.
 */

/** Milliseconds since 1970 on the database's clock, as SQL. */
const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';
/** A fresh 10-character epoch of [0-9a-f]. */
const NEW_EPOCH = 'substr(md5(random()::text || clock_timestamp()::text), 1, 10)';

/** Every function, for the schema `s` (quoted). */
export function functionsSql(s: string): string {
  return [APPEND(s), PUBLISH(s), READ(s), HEADS(s), REWIND(s), SWEEP(s)].join('\n');
}

/**
 * The public function: publishes one event inside the caller's transaction and returns its
 * offset. It is delivered if and when that transaction commits.
 */
const PUBLISH = (s: string) => `create or replace function ${s}.publish(
  channel text, type text, data jsonb, idempotency_key text default null)
returns bigint language sql volatile as $fn$
  select r_offset from ${s}.append(channel, array[type], array[data::json], array[idempotency_key], 300000)
$fn$;
`;

/**
 * Appends events to one channel in order: locks the channel's row (creating the log with a new
 * epoch when there is none), skips keys it already accepted, inserts the events, and notifies
 * each one on the schema's NOTIFY channel. PostgreSQL sends the notifications at commit only.
 * A notification carries the whole event (`channel \n epoch \n offset \n ts \n type \n data`),
 * or only its position (`channel \n epoch \n offset`) when that would pass NOTIFY's 8000 bytes.
 */
const APPEND = (s: string) => `create or replace function ${s}.append(
  p_channel text, p_types text[], p_data json[], p_keys text[], p_window bigint)
returns table(r_epoch text, r_offset bigint, r_ts bigint, r_repeat boolean, r_type text, r_data text)
language plpgsql volatile as $fn$
declare
  v_now bigint := ${NOW_MS};
  v_epoch text;
  v_head bigint;
  v_ts bigint;
  v_type text;
  v_key text;
  v_payload text;
  v_found boolean;
  v_row record;
begin
  if p_channel is null or p_channel !~ '^[A-Za-z0-9_.:/-]{1,200}$' then
    raise exception 'tandem: invalid channel name %', left(coalesce(p_channel, 'null'), 220)
      using errcode = '22023';
  end if;
  select c.epoch, c.head, c.ts into v_epoch, v_head, v_ts
    from ${s}.channels c where c.channel = p_channel for update;
  if not found then
    insert into ${s}.channels (channel, epoch, head, ts, created, touched)
      values (p_channel, ${NEW_EPOCH}, 0, 0, v_now, v_now) on conflict (channel) do nothing;
    select c.epoch, c.head, c.ts into v_epoch, v_head, v_ts
      from ${s}.channels c where c.channel = p_channel for update;
    if not found then
      -- Created by a transaction this snapshot cannot see (REPEATABLE READ): retry it.
      raise exception 'tandem: channel % created concurrently', p_channel using errcode = '40001';
    end if;
  end if;
  -- An event's time never goes back, even when the database's clock does.
  v_now := greatest(v_now, v_ts);
  for i in 1 .. coalesce(array_length(p_types, 1), 0) loop
    v_type := p_types[i];
    if v_type is null or v_type = '' or length(v_type) > 200 or v_type ~ '[\\r\\n]' then
      raise exception 'tandem: an event type is 1-200 characters without line breaks'
        using errcode = '22023';
    end if;
    if p_data[i] is null then
      raise exception 'tandem: event data may not be SQL null (use ''null''::jsonb)' using errcode = '22004';
    end if;
    v_key := p_keys[i];
    if v_key is not null then
      if length(v_key) < 1 or length(v_key) > 200 then
        raise exception 'tandem: an idempotency key is 1-200 characters' using errcode = '22023';
      end if;
      select k.epoch, k."offset", k.ts, e.type, e.data::text into v_row
        from ${s}.idempotency k
        left join ${s}.events e on e.channel = k.channel and e."offset" = k."offset"
        where k.channel = p_channel and k.key = v_key and k.expires > v_now and k.epoch = v_epoch;
      v_found := found;
      if v_found then
        r_epoch := v_row.epoch; r_offset := v_row."offset"; r_ts := v_row.ts; r_repeat := true;
        r_type := coalesce(v_row.type, v_type); r_data := v_row.data;
        return next;
        continue;
      end if;
    end if;
    v_head := v_head + 1;
    insert into ${s}.events (channel, "offset", ts, type, data)
      values (p_channel, v_head, v_now, v_type, p_data[i]);
    if v_key is not null then
      insert into ${s}.idempotency as k (channel, key, epoch, "offset", ts, expires)
        values (p_channel, v_key, v_epoch, v_head, v_now, v_now + p_window)
        on conflict (channel, key) do update
          set epoch = excluded.epoch, "offset" = excluded."offset", ts = excluded.ts, expires = excluded.expires;
    end if;
    v_payload := p_channel || E'\\n' || v_epoch || E'\\n' || v_head || E'\\n' || v_now || E'\\n' || v_type
      || E'\\n' || p_data[i]::text;
    if octet_length(v_payload) >= 8000 then
      v_payload := p_channel || E'\\n' || v_epoch || E'\\n' || v_head;
    end if;
    perform pg_notify('${s.slice(1, -1)}', v_payload);
    r_epoch := v_epoch; r_offset := v_head; r_ts := v_now; r_repeat := false; r_type := v_type; r_data := null;
    return next;
  end loop;
  update ${s}.channels c set head = v_head, ts = v_now, touched = v_now where c.channel = p_channel;
end
$fn$;
`;

/**
 * One channel's log: a header (epoch null when there is no log; then nothing is written) and
 * the events after `p_after` that retention keeps, at most `p_limit` (-1: all) and, with
 * `p_max_bytes`, only as many as reach that many bytes of data (at least one).
 */
const READ = (s: string) => `create or replace function ${s}.read(
  p_channel text, p_after bigint, p_limit integer, p_max_bytes bigint,
  p_retention bigint, p_max_events bigint, p_expect text)
returns table(r_epoch text, r_head bigint, r_oldest bigint, r_created bigint, r_now bigint,
  r_source text, r_offset bigint, r_ts bigint, r_type text, r_data text)
language plpgsql volatile as $fn$
declare
  v_now bigint := ${NOW_MS};
  v_source text := (select m.source from ${s}.meta m);
  v_channel record;
  v_oldest bigint;
  v_after bigint := p_after;
begin
  select c.epoch, c.head, c.created into v_channel from ${s}.channels c where c.channel = p_channel;
  if not found then
    return query select null::text, 0::bigint, 1::bigint, 0::bigint, v_now, v_source,
      null::bigint, null::bigint, null::text, null::text;
    return;
  end if;
  -- Events are in offset order and their ts never decreases: the first one inside both the
  -- count and the age window is the oldest retained, even before the sweep deletes the rest.
  select min(e."offset") into v_oldest from ${s}.events e
    where e.channel = p_channel and e."offset" >= greatest(v_channel.head - p_max_events + 1, 1)
      and e.ts >= v_now - p_retention;
  v_oldest := coalesce(v_oldest, v_channel.head + 1);
  if p_expect is not null and p_expect <> v_channel.epoch then v_after := 0; end if;
  if p_limit <> 0 and v_after < v_channel.head then
    return query
      select v_channel.epoch, v_channel.head, v_oldest, v_channel.created, v_now, v_source,
        w."offset", w.ts, w.type, w.data
      from (
        select e."offset", e.ts, e.type, e.data::text as data,
          sum(octet_length(e.data::text)) over (order by e."offset") as running
        from (
          select * from ${s}.events e
          where e.channel = p_channel and e."offset" >= greatest(v_after + 1, v_oldest)
          order by e."offset" limit case when p_limit < 0 then null else p_limit end
        ) e
      ) w
      where p_max_bytes is null or w.running - octet_length(w.data) < p_max_bytes
      order by w."offset";
    if found then return; end if;
  end if;
  return query select v_channel.epoch, v_channel.head, v_oldest, v_channel.created, v_now, v_source,
    null::bigint, null::bigint, null::text, null::text;
end
$fn$;
`;

/**
 * Retention, a batch at a time and without waiting for any lock: events past the age or count
 * window, expired idempotency keys, and channels idle longer than `p_idle_ttl` (0: kept),
 * whose rows are skipped while a transaction holds them. Returns the rows deleted.
 */
const SWEEP = (s: string) => `create or replace function ${s}.sweep(
  p_retention bigint, p_max_events bigint, p_idle_ttl bigint, p_batch integer)
returns bigint language plpgsql volatile as $fn$
declare
  v_now bigint := ${NOW_MS};
  v_deleted bigint := 0;
  v_count bigint;
begin
  delete from ${s}.events where ctid = any(array(
    select e.ctid from ${s}.events e where e.ts < v_now - p_retention limit p_batch));
  get diagnostics v_count = row_count; v_deleted := v_deleted + v_count;
  -- One statement, one snapshot: a log recreated meanwhile is judged by its own head.
  delete from ${s}.events e using (
    select c.channel, c.head from ${s}.channels c
    where c.head > p_max_events and exists (
      select 1 from ${s}.events x where x.channel = c.channel and x."offset" <= c.head - p_max_events)
    limit p_batch) c
  where e.channel = c.channel and e."offset" <= c.head - p_max_events;
  get diagnostics v_count = row_count; v_deleted := v_deleted + v_count;
  delete from ${s}.idempotency where ctid = any(array(
    select k.ctid from ${s}.idempotency k where k.expires < v_now limit p_batch));
  get diagnostics v_count = row_count; v_deleted := v_deleted + v_count;
  if p_idle_ttl > 0 then
    -- The rows stay locked to commit: a publish waiting for one creates a new log afterwards.
    with gone as (
      delete from ${s}.channels c where c.channel in (
        select x.channel from ${s}.channels x where x.touched < v_now - p_idle_ttl
        limit p_batch for update skip locked)
      returning c.channel
    ), keys as (
      delete from ${s}.idempotency k using gone where k.channel = gone.channel
    )
    delete from ${s}.events e using gone where e.channel = gone.channel;
    get diagnostics v_count = row_count; v_deleted := v_deleted + v_count;
  end if;
  return v_deleted;
end
$fn$;
`;

/**
 * The epoch and head of each channel followed by a hub; marks those channels used, so that
 * retention keeps a channel someone follows (rows a transaction holds are left for next time).
 */
const HEADS = (s: string) => `create or replace function ${s}.heads(p_channels text[], p_idle_ttl bigint)
returns table(r_channel text, r_epoch text, r_head bigint)
language plpgsql volatile as $fn$
declare
  v_now bigint := ${NOW_MS};
begin
  if p_idle_ttl > 0 then
    update ${s}.channels c set touched = v_now where c.channel in (
      select x.channel from ${s}.channels x
      where x.channel = any(p_channels) and x.touched < v_now - p_idle_ttl / 2
      for update skip locked);
  end if;
  return query select c.channel, c.epoch, c.head from ${s}.channels c where c.channel = any(p_channels);
end
$fn$;
`;

/**
 * A hub delivered offset `p_last` of `p_epoch` but the log's head is below it: the database
 * went back in time (restored from a backup) and would reuse those offsets. The log starts over
 * under a new epoch, so every client resyncs. Returns whether it did.
 */
const REWIND = (
  s: string,
) => `create or replace function ${s}.rewind(p_channel text, p_epoch text, p_last bigint)
returns boolean language plpgsql volatile as $fn$
begin
  perform 1 from ${s}.channels c
    where c.channel = p_channel and c.epoch = p_epoch and c.head < p_last for update;
  if not found then return false; end if;
  delete from ${s}.events e where e.channel = p_channel;
  delete from ${s}.idempotency k where k.channel = p_channel;
  -- Creation time unknown (0): a client that saw the channel empty resyncs.
  update ${s}.channels c set epoch = ${NEW_EPOCH}, head = 0, created = 0 where c.channel = p_channel;
  return true;
end
$fn$;
`;
