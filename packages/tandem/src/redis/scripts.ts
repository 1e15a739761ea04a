/**
 * The Lua scripts behind the Redis broker. Each runs atomically on the Redis server, so offsets,
 * the stream and the notification can never disagree.
 *
 * Per channel, two keys share one hash tag (same cluster slot):
 * - `<prefix>:{<channel>}:meta`, a hash: `epoch` (the log's identity), `head` (last offset),
 *   `ts` (last publish time, keeps `ts` monotonic when the server clock steps back), `trim`
 *   (time before which no entry can expire), `c` (when the log was created);
 * - `<prefix>:{<channel>}:log`, a stream whose entry IDs are `<offset>-0`, so a range read by
 *   offset is an exact `XRANGE`. Fields: `ts`, `t` (type), `d` (data as JSON).
 * A meta hash without an epoch means there is no log (never published, expired, flushed, lost
 * in a restart without persistence): reads see an empty channel and write nothing; the next
 * publish starts a new log, from offset 1, and deletes any orphaned stream.
 *
 * Per prefix, one more key: `<prefix>:life`, a string naming this life of the dataset (4
 * base-36 characters, then the run id of the Redis process that made it; see life.ts). Every
 * new log's epoch starts with it, and a channel read with no log is reported under an empty
 * epoch carrying it, so a log can be judged "the first since that look" only if Redis did not
 * lose anything in between: the marker is lost with the logs, or was made by another process,
 * and whoever writes next makes a new one.
 *
 * Idempotent appends keep two more keys per channel, in its slot: `<prefix>:{<channel>}:ik`, a
 * sorted set of the keys accepted (score: when), and `<prefix>:{<channel>}:iv`, a hash from
 * key to `<epoch> <offset> <ts>` of the event it made.
 */
import { createHash } from 'node:crypto';

// The life marker, `<4 base-36 chars> <run_id>`: the id, and the Redis process that made it.
// `current_life(key, proposed)` returns the id, after making a new one from `proposed` when the
// marker is missing, malformed (it would make an invalid epoch) or made by another Redis process:
// a restart or a failover may have lost logs, even with persistence (the last second of an
// `everysec` AOF, a lagging replica), so it ends the life. Without INFO (renamed, denied) the
// run id is '' and only a lost or malformed marker ends it.
const CURRENT_LIFE = `
local function current_life(key, proposed)
  local info = redis.pcall('INFO', 'server')
  local run = (type(info) == 'string' and string.match(info, 'run_id:(%w+)')) or ''
  local marker = redis.call('GET', key)
  if marker and string.match(marker, '^[0-9a-z][0-9a-z][0-9a-z][0-9a-z] ') and string.sub(marker, 6) == run then
    return string.sub(marker, 1, 4)
  end
  redis.call('SET', key, proposed .. ' ' .. run)
  return proposed
end
`;

// Shared prologue. KEYS[1] meta, KEYS[2] log, KEYS[3] life marker. ARGV[1] the random part of
// a new epoch, ARGV[2] retention ms, ARGV[3] key TTL ms (0 = none). Defines `epoch` (false when
// there is no log), `head`, `last_ts`, `created`, `now`, `create()`, `touch()`, `trim_age()`,
// `oldest()`. Each redis.call costs a few µs, so the hot path makes few of them.
const PROLOGUE = `
local meta, log = KEYS[1], KEYS[2]
local m = redis.call('HMGET', meta, 'epoch', 'head', 'ts', 'trim', 'c')
local epoch = m[1]
local head = tonumber(m[2] or '0')
local last_ts = tonumber(m[3] or '0')
-- No entry can expire before 'trim' (ms): until then the age check is skipped.
local next_trim = tonumber(m[4] or '0')
-- When this log was created (ms); 0 when unknown (a log rewound, or from an older version).
local created = tonumber(m[5] or '0')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
${CURRENT_LIFE}
-- Starts a log, deleting any orphaned stream. Only a publish does. The epoch is the life
-- marker's id (made from the proposed one if needed) followed by the random part.
local function create(life)
  epoch, head, last_ts, next_trim, created = current_life(KEYS[3], life) .. ARGV[1], 0, 0, 0, now
  redis.call('DEL', log)
  redis.call('HSET', meta, 'epoch', epoch, 'head', 0, 'ts', 0, 'trim', 0, 'c', now)
end
local retention = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local function touch()
  if ttl > 0 then
    redis.call('PEXPIRE', meta, ttl)
    redis.call('PEXPIRE', log, ttl)
  end
end
local function offset_of(id)
  return tonumber((string.gsub(id, '-.*', '')))
end
-- Drops entries older than the retention window; returns true when next_trim changed.
-- Entries are in offset order and their ts never decreases, so the expired ones are a prefix.
-- The next check is due when the oldest kept entry expires, plus a little slack (a tenth of
-- the window, at most 1 s) so a busy channel looks once per slack, not on every publish.
local function trim_age()
  if now < next_trim then return false end
  local cutoff = now - retention
  local slack = math.min(math.floor(retention / 10), 1000)
  while true do
    local batch = redis.call('XRANGE', log, '-', '+', 'COUNT', 64)
    for i = 1, #batch do
      local ts = tonumber(batch[i][2][2])
      if ts >= cutoff then
        if i > 1 then redis.call('XTRIM', log, 'MINID', batch[i][1]) end
        next_trim = ts + retention + slack
        return true
      end
    end
    if #batch > 0 then redis.call('XTRIM', log, 'MINID', (offset_of(batch[#batch][1]) + 1) .. '-0') end
    if #batch < 64 then
      next_trim = 0
      return true
    end
  end
end
local function oldest()
  local first = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
  if #first == 0 then return head + 1 end
  return offset_of(first[1][1])
end
`;

/**
 * Append one or more events, in order. ARGV[4] max events, ARGV[5] notification channel,
 * ARGV[6] idempotency window ms, ARGV[7] a life marker to make if Redis has none, then per
 * event a type, a data JSON and an idempotency key ('' for none) (ARGV[8], ARGV[9], ARGV[10]…).
 * Each event is notified with the whole of it, so subscribers need no read on the common path:
 * `epoch \n offset \n ts \n type \n data`.
 *
 * An event whose key was accepted on this channel within the window is a repeat: nothing is
 * appended or notified for it, and it is answered with what the first one made. Checking and
 * appending in one script is what makes two hubs racing the same retry append it once. The
 * keys accepted are remembered for the window and at most `max events` of them per channel
 * (the oldest forgotten first), so their memory is bounded like the log's.
 *
 * Returns `{epoch, first offset, ts, repeats}`: the events appended take the offsets from
 * `first offset` on and share the ts (epoch '' and offset 0 when all were repeats); each repeat
 * is `{its place in the call (1-based), '<epoch> <offset> <ts>', stored fields or false}`, the
 * fields when the first event is still in the log.
 */
export const APPEND_SCRIPT = `${PROLOGUE}
local keys, records = KEYS[4], KEYS[5]
local window = tonumber(ARGV[6])
if now < last_ts then now = last_ts end
local offset, first, keyed = head, false, false
local repeats = {}
-- The stored fields of the event a record names, if its log still holds it.
local function stored(record)
  local e, o = string.match(record, '^(%S+) (%d+)')
  if e ~= epoch then return false end
  local entry = redis.call('XRANGE', log, o .. '-0', o .. '-0')
  if #entry == 0 then return false end
  return entry[1][2]
end
local n = 0
for i = 8, #ARGV, 3 do
  n = n + 1
  local key = ARGV[i + 2]
  local record = false
  if key ~= '' then
    keyed = true
    local at = redis.call('ZSCORE', keys, key)
    if at and tonumber(at) > now - window then record = redis.call('HGET', records, key) end
  end
  if record then
    repeats[#repeats + 1] = {n, record, stored(record)}
  else
    if not epoch then
      create(ARGV[7])
      offset = 0
    end
    offset = offset + 1
    if not first then first = offset end
    redis.call('XADD', log, 'MAXLEN', ARGV[4], offset .. '-0', 'ts', now, 't', ARGV[i], 'd', ARGV[i + 1])
    redis.call('PUBLISH', ARGV[5], epoch .. '\\n' .. offset .. '\\n' .. now .. '\\n' .. ARGV[i] .. '\\n' .. ARGV[i + 1])
    if key ~= '' then
      redis.call('ZADD', keys, now, key)
      redis.call('HSET', records, key, epoch .. ' ' .. offset .. ' ' .. now)
    end
  end
end
if first then
  trim_age()
  redis.call('HSET', meta, 'head', offset, 'ts', now, 'trim', next_trim)
  touch()
end
if keyed then
  -- Forgets keys past the window (a bounded number per call; the keys themselves expire once
  -- no keyed append came for a whole window), then the oldest beyond the cap.
  local function forget(members)
    for j = 1, #members, 1000 do
      local part = {unpack(members, j, math.min(j + 999, #members))}
      redis.call('ZREM', keys, unpack(part))
      redis.call('HDEL', records, unpack(part))
    end
  end
  forget(redis.call('ZRANGEBYSCORE', keys, '-inf', now - window, 'LIMIT', 0, 128))
  local over = redis.call('ZCARD', keys) - tonumber(ARGV[4])
  if over > 0 then forget(redis.call('ZRANGE', keys, 0, over - 1)) end
  redis.call('PEXPIRE', keys, window)
  redis.call('PEXPIRE', records, window)
end
return {epoch or '', first or 0, now, repeats}
`;

/**
 * Read. ARGV[4] after, ARGV[5] limit (-1 = all), ARGV[6] expected epoch ('' = any): when the
 * log's epoch differs from the expected one, the read starts at the new log's beginning.
 * ARGV[7] max bytes ('' = no bound): XRANGE counts entries, not bytes, so a bounded read takes
 * pages of 8, 16, 32… entries (at most 1 024) and stops once the data JSON read reaches the
 * bound, at least one entry in: a poll over 64 channels of 1 000 events reads about its byte
 * budget, not 64 000 entries. Entries keep the fields in the order XADD wrote them
 * (`ts`, `t`, `d`), so the data is the sixth item.
 * Returns `{epoch, head, oldest, entries, created, now}`; a limit of 0 makes it a pure `info`.
 * A channel with no log is read as empty, with epoch '' and the life marker ('' when there is
 * none) as a seventh item, and nothing is written: reading a channel creates no key.
 */
export const READ_SCRIPT = `${PROLOGUE}
if not epoch then return {'', 0, 1, {}, 0, now, redis.call('GET', KEYS[3]) or ''} end
if trim_age() then redis.call('HSET', meta, 'trim', next_trim) end
touch()
local after = tonumber(ARGV[4])
if ARGV[6] ~= '' and ARGV[6] ~= epoch then after = 0 end
local first = oldest()
local limit = tonumber(ARGV[5])
local entries = {}
local max_bytes = tonumber(ARGV[7])
if limit ~= 0 and after < head then
  local from = math.max(after + 1, first)
  if max_bytes then
    local bytes, page, done = 0, 8, false
    while not done do
      local count = page
      if limit > 0 then count = math.min(count, limit - #entries) end
      local batch = redis.call('XRANGE', log, from .. '-0', '+', 'COUNT', count)
      for i = 1, #batch do
        entries[#entries + 1] = batch[i]
        bytes = bytes + #batch[i][2][6]
        if bytes >= max_bytes then
          done = true
          break
        end
      end
      if #batch < count or (limit > 0 and #entries >= limit) then done = true end
      if not done then
        from = offset_of(batch[#batch][1]) + 1
        page = math.min(page * 2, 1024)
      end
    end
  elseif limit > 0 then
    entries = redis.call('XRANGE', log, from .. '-0', '+', 'COUNT', limit)
  else
    entries = redis.call('XRANGE', log, from .. '-0', '+')
  end
end
return {epoch, head, first, entries, created, now}
`;

/**
 * The life check a broker makes whenever its command connection comes up, before anything
 * else on it. KEYS[1] the life marker, ARGV[1] a new id. Returns 1 if it started a new life.
 */
export const LIFE_SCRIPT = `${CURRENT_LIFE}
local before = redis.call('GET', KEYS[1])
current_life(KEYS[1], ARGV[1])
if redis.call('GET', KEYS[1]) == before then return 0 end
return 1
`;

/**
 * Rewind guard. ARGV[1] the epoch a reader trusted, ARGV[2] the last offset it delivered,
 * ARGV[3] a new epoch. When the log still has that epoch but its head is below that offset, the
 * log went back in time (restart from an older AOF, failover to a lagging replica): its offsets
 * would be reused for other events. Starts a new log so every client resyncs. Returns 1 if so.
 */
export const REWIND_SCRIPT = `
local meta, log = KEYS[1], KEYS[2]
local epoch = redis.call('HGET', meta, 'epoch')
local head = tonumber(redis.call('HGET', meta, 'head') or '0')
if epoch == ARGV[1] and head < tonumber(ARGV[2]) then
  redis.call('DEL', log)
  -- Creation time unknown ('c' 0): a client that saw the channel empty cannot tell whether
  -- it missed the rewound log's events, so it resyncs.
  redis.call('HSET', meta, 'epoch', ARGV[3], 'head', 0, 'c', 0)
  return 1
end
return 0
`;

export interface Script {
  source: string;
  sha: string;
}

export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}
