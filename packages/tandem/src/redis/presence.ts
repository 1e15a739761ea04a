import type { PresenceEntry, PresenceStore } from '../broker';

/**
 * Presence in Redis. Per channel, in the channel's hash slot: a hash of entries by connection
 * (`{channel}:pres`), a sorted set of when each expires (`{channel}:pexp`, ms) and a version
 * (`{channel}:pver`). A live entry expires `ttlMs` after its hub last refreshed it, an ended one
 * at the end of its grace. Every script first drops the expired entries and, when it changed
 * anything, bumps the version and publishes it on `<prefix>:pres:<channel>`: the entries of a
 * hub killed with -9 leave at most `ttlMs` + one refresh later, announced to every other hub.
 */
const SWEEP = `
local now = tonumber(ARGV[1])
local changed = 0
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
if #gone > 0 then
  redis.call('HDEL', KEYS[1], unpack(gone))
  redis.call('ZREM', KEYS[2], unpack(gone))
  changed = 1
end
`;

const DONE = `
local version = tonumber(redis.call('GET', KEYS[3]) or '0')
if changed == 1 then
  version = redis.call('INCR', KEYS[3])
  redis.call('PUBLISH', ARGV[3], version)
end
local keep = tonumber(ARGV[2]) * 2
redis.call('PEXPIRE', KEYS[1], keep)
redis.call('PEXPIRE', KEYS[2], keep)
redis.call('PEXPIRE', KEYS[3], keep)
return version
`;

/** ARGV: now, ttlMs, channel to publish on, then (id, json, expiresAt) per entry. */
const PUT = `${SWEEP}
for i = 4, #ARGV, 3 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], ARGV[i + 2], ARGV[i])
  changed = 1
end
${DONE}`;

/** ARGV: now, ttlMs, channel to publish on, then the ids. */
const REMOVE = `${SWEEP}
for i = 4, #ARGV do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then changed = 1 end
  redis.call('ZREM', KEYS[2], ARGV[i])
end
${DONE}`;

/** ARGV: now, ttlMs, channel to publish on, then the ids whose expiry moves to now + ttl. */
const REFRESH = `${SWEEP}
local expires = now + tonumber(ARGV[2])
for i = 4, #ARGV do redis.call('ZADD', KEYS[2], 'XX', expires, ARGV[i]) end
${DONE}`;

/** ARGV: now, ttlMs, channel to publish on. Returns { version, id, json, id, json… }. */
const READ = `${SWEEP}
local version = tonumber(redis.call('GET', KEYS[3]) or '0')
if changed == 1 then
  version = redis.call('INCR', KEYS[3])
  redis.call('PUBLISH', ARGV[3], version)
end
local out = { version }
for _, field in ipairs(redis.call('HGETALL', KEYS[1])) do out[#out + 1] = field end
return out`;

interface RedisPresenceHost {
  prefix: string;
  ttlMs: number;
  now(): number;
  command(args: string[]): Promise<unknown>;
  /** Subscribes to a pub/sub pattern on the broker's subscriber connection. */
  pSubscribe(pattern: string, listener: (message: string, channel: string) => void): Promise<void>;
}

/** The Redis broker's presence store (see above). */
export function redisPresenceStore(host: RedisPresenceHost): PresenceStore {
  const { prefix, ttlMs } = host;
  const notifyPrefix = `${prefix}:pres:`;
  const watchers = new Map<string, Set<() => void>>();
  let subscribed = false;
  const run = (lua: string, channel: string, args: string[]) =>
    host.command([
      'EVAL',
      lua,
      '3',
      `${prefix}:{${channel}}:pres`,
      `${prefix}:{${channel}}:pexp`,
      `${prefix}:{${channel}}:pver`,
      String(host.now()),
      String(ttlMs),
      `${notifyPrefix}${channel}`,
      ...args,
    ]);
  const encode = (entry: PresenceEntry) => {
    const { connection, until, ...rest } = entry;
    return [connection, JSON.stringify({ ...rest, ...(until === undefined ? {} : { until }) })];
  };
  return {
    refreshMs: Math.max(1, Math.floor(ttlMs / 3)),
    async put(channel, entries) {
      const args: string[] = [];
      for (const entry of entries) args.push(...encode(entry), String(entry.until ?? host.now() + ttlMs));
      await run(PUT, channel, args);
    },
    async remove(channel, connections) {
      await run(REMOVE, channel, [...connections]);
    },
    async read(channel) {
      const [version, ...fields] = (await run(READ, channel, [])) as [number, ...string[]];
      const entries: PresenceEntry[] = [];
      for (let i = 0; i + 1 < fields.length; i += 2) {
        entries.push({
          ...(JSON.parse(fields[i + 1]!) as Omit<PresenceEntry, 'connection'>),
          connection: fields[i]!,
        });
      }
      return { version: Number(version), entries };
    },
    async refresh(entries) {
      // One script per channel, all sent in the same tick: node-redis writes them as one
      // pipeline, one round trip for every channel of the hub.
      await Promise.all(
        [...entries].map(([channel, list]) =>
          run(
            REFRESH,
            channel,
            list.map((entry) => entry.connection),
          ),
        ),
      );
    },
    watch(channel, listener) {
      if (!subscribed) {
        subscribed = true;
        host
          .pSubscribe(`${notifyPrefix}*`, (_message, redisChannel) => {
            const set = watchers.get(redisChannel.slice(notifyPrefix.length));
            if (set) for (const watcher of [...set]) watcher();
          })
          .catch(() => {
            // Tried again by the next watch.
            subscribed = false;
          });
      }
      const set = watchers.get(channel) ?? new Set();
      watchers.set(channel, set);
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) watchers.delete(channel);
      };
    },
  };
}
