/**
 * `redisBroker`: the log of every channel lives in Redis, so any number of hub processes share
 * it and any of them can resume any client. Publishing is one Lua script (offset, stream
 * append, notification); each process holds one pattern subscription for the live feed and
 * fans it out locally; holes in the feed are repaired from the stream. The connections live in
 * `connection.ts`, the scripts' runner and the append script in `runner.ts`; the live feed, the
 * head check and the ordered appends are the broker floor's, shared with the PostgreSQL broker.
 */
import {
  type ChannelInfo,
  checkIdempotencyKey,
  type FeedSource,
  HeadCheck,
  LiveFeed,
  OrderedAppends,
  type ReadResult,
} from '../broker';
import { assertFieldValue, emptyEpoch, type LiveEvent, newEpoch } from '../protocol';
import { entryToEvent, parseNotification } from './codec';
import { RedisConnection } from './connection';
import { lifeContinues, NO_LIFE, newLife } from './life';
import type { RedisBroker, RedisBrokerOptions } from './options';
import { redisPresenceStore } from './presence';
import { scriptAppends, scriptRunner } from './runner';
import { LIFE_SCRIPT, READ_SCRIPT, REWIND_SCRIPT, script } from './scripts';
import { resolveSettings } from './settings';

export type { RedisBroker, RedisBrokerOptions, RedisBrokerStats, RedisClientLike } from './options';

/** A life marker as the scripts write it (`<id> <run_id>`); any other value reads as none. */
const LIFE = /^[0-9a-z]{4} /;

export function redisBroker(options: RedisBrokerOptions = {}): RedisBroker {
  const settings = resolveSettings(options);
  const { prefix, retentionMs, idleTtlMs, commandTimeoutMs } = settings;

  const connection = new RedisConnection(options, commandTimeoutMs, () => {
    markLife();
    feed.retry();
  });
  const { client, subscriber } = connection;
  const command = (args: string[]) => connection.command(args);
  const feedChannelPrefix = `${prefix}:ev:`;
  const metaKey = (channel: string) => `${prefix}:{${channel}}:meta`;
  const runScript = scriptRunner(command, prefix, retentionMs, idleTtlMs);
  const appends = new OrderedAppends(
    scriptAppends(runScript, settings.maxEventsPerChannel, feedChannelPrefix, settings.idempotencyWindowMs),
  );
  const read = script(READ_SCRIPT);
  const rewind = script(REWIND_SCRIPT);

  // The dataset's life marker (life.ts), checked first thing whenever the command connection
  // comes up: made if missing, so that a channel read before any publish has one to carry, and
  // made anew if another Redis process made it (a restart or a failover). Best effort: without
  // it, such a reader resyncs once the channel gets a log.
  let marking: Promise<void> = Promise.resolve();
  const markLife = () => {
    marking = command(['EVAL', LIFE_SCRIPT, '1', `${prefix}:life`, newLife()]).then(
      () => undefined,
      () => undefined,
    );
  };
  markLife();

  let patternSubscribed = false;
  let feedActive = false;
  // The subscriber lost its connection: notifications published meanwhile are gone.
  subscriber.on('reconnecting', () => {
    feedActive = false;
  });
  subscriber.on('ready', () => {
    // node-redis re-subscribes before `ready`, so from here on nothing more is missed.
    if (!patternSubscribed) return;
    feedActive = true;
    feed.repairAll();
  });

  const readLog = async (
    channel: string,
    after: number,
    limit: number,
    expectEpoch: string | undefined,
    maxBytes?: number,
  ): Promise<ReadResult> => {
    const bound = maxBytes === undefined ? '' : String(Math.max(0, Math.floor(maxBytes)));
    const reply = (await runScript(read, channel, [
      String(after),
      String(limit),
      expectEpoch ?? '',
      bound,
    ])) as [string, number, number, [string, string[]][], number, number, string?];
    const [epoch, head, oldest, entries, created, now, life] = reply;
    // No log: the channel is read as empty, under an epoch that names when it was seen so, and
    // in which life of the dataset (life.ts).
    if (epoch === '') {
      const source = life && LIFE.test(life) ? life.slice(0, 4) : NO_LIFE;
      return { epoch: emptyEpoch(source, Number(now)), head: 0, oldest: 1, events: [] };
    }
    const events: LiveEvent[] = [];
    for (const [id, fields] of entries) events.push(entryToEvent(channel, epoch, id, fields));
    return { epoch, head: Number(head), oldest: Number(oldest), events, created: Number(created) };
  };

  const feedSource: FeedSource = {
    position: async (channel) => {
      const [epoch, head] = (await command(['HMGET', metaKey(channel), 'epoch', 'head'])) as [
        string | null,
        string | null,
      ];
      return epoch === null ? { epoch: undefined, head: 0 } : { epoch, head: Number(head) };
    },
    read: (channel, after, epoch) => readLog(channel, after, -1, epoch),
    rewound: async (channel, epoch, last) => {
      await runScript(rewind, channel, [], [epoch, String(last), newEpoch()]);
    },
  };
  const feed = new LiveFeed(feedSource, { onListenerError: options.onListenerError });

  const { headCheckMs } = settings;
  const heads = new HeadCheck(
    feed,
    // Sent in one tick, so node-redis pipelines them in one write: one round trip.
    (channels) => Promise.all(channels.map((channel) => feedSource.position(channel))),
    () => subscriber.sendCommand(['PING'], { timeout: commandTimeoutMs }),
    headCheckMs,
    Math.min(1000, headCheckMs / 10),
  );
  heads.start();

  const onMessage = (message: string, redisChannel: string) => {
    const channel = redisChannel.slice(feedChannelPrefix.length);
    if (!feed.has(channel)) return;
    const event = parseNotification(channel, message);
    if (event) feed.notify(event);
  };

  const subscribePattern = async (): Promise<void> => {
    // Retried on every `ready` until it succeeds once; after that node-redis re-subscribes.
    while (!connection.closed && !patternSubscribed) {
      try {
        await subscriber.pSubscribe(`${feedChannelPrefix}*`, onMessage);
        patternSubscribed = true;
        feedActive = true;
        // Anything published between a subscription's baseline and now was not seen.
        feed.repairAll();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };

  const clientConnected = connection.connect(client);
  const subscriberConnected = connection.connect(subscriber).then(subscribePattern);

  return {
    async append(channel, type, data, serialised, appendOptions) {
      assertFieldValue('event', type);
      const key = appendOptions?.idempotencyKey;
      checkIdempotencyKey(key);
      return appends.append(
        channel,
        type,
        data,
        serialised ?? JSON.stringify(data === undefined ? null : data),
        key,
      );
    },

    async info(channel): Promise<ChannelInfo> {
      const { epoch, head, oldest, created } = await readLog(channel, 0, 0, undefined);
      return { epoch, head, oldest, created };
    },

    continues(empty, log) {
      return lifeContinues(empty, log, idleTtlMs);
    },

    read(channel, after, limit, maxBytes) {
      return readLog(
        channel,
        Math.max(0, Math.floor(after)),
        limit === undefined ? -1 : Math.max(0, limit),
        undefined,
        maxBytes,
      );
    },

    subscribe(channel, listener) {
      return feed.subscribe(channel, listener);
    },

    presence: redisPresenceStore({
      prefix,
      ttlMs: settings.presenceTtlMs,
      now: Date.now,
      command,
      pSubscribe: (pattern, listener) => subscriber.pSubscribe(pattern, listener),
    }),

    stats() {
      return { ...feed.stats(), headChecks: heads.checks, headRepairs: heads.repairs };
    },

    async ready() {
      await Promise.all([clientConnected, subscriberConnected]);
      if (!connection.ready) await connection.firstConnection();
      if (!feedActive) throw connection.unavailable();
      await marking;
    },

    async close() {
      if (connection.closed) return;
      heads.stop();
      feed.close();
      await connection.close();
    },
  };
}
