/**
 * `redisBroker`: the log of every channel lives in Redis, so any number of hub processes share
 * it and any of them can resume any client. Publishing is one Lua script (offset, stream
 * append, notification); each process holds one pattern subscription for the live feed and
 * fans it out locally; holes in the feed are repaired from the stream.
 */
import { createClient, ErrorReply } from 'redis';
import type { Broker, ChannelInfo, ReadResult } from '../broker';
import { BROKER_DEFAULTS as DEFAULTS, emptyContinues } from '../broker';
import {
  assertFieldValue,
  emptyEpoch,
  isTandemError,
  type LiveEvent,
  newEpoch,
  TandemError,
} from '../protocol';
import { entryToEvent, parseNotification } from './codec';
import { LiveFeed } from './feed';
import type { FeedSource } from './feed-source';
import { HeadCheck } from './head-check';
import { APPEND_SCRIPT, READ_SCRIPT, REWIND_SCRIPT, type Script, script } from './scripts';

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
  /** Redis URL, e.g. `redis://localhost:6379`. Ignored when `client` is given. */
  url?: string;
  /**
   * A node-redis v5 client to use instead of creating one (connected or not). The broker
   * duplicates it for its subscription and never closes it. Give it
   * `disableOfflineQueue: true`, or publishes wait for a reconnect up to `commandTimeoutMs`.
   */
  client?: RedisClientLike;
  /** Prefix of every key and pub/sub channel. Default `tandem`. */
  prefix?: string;
  /** How long events are kept, in ms. Default 300 000 (5 minutes). */
  retentionMs?: number;
  /** Most events kept per channel. Default 10 000. */
  maxEventsPerChannel?: number;
  /**
   * A channel untouched (no publish, read or info) for this long is deleted from Redis, epoch
   * included; a client that comes back later gets `resync`. Default 86 400 000 (1 day); 0 keeps
   * channels forever.
   */
  idleTtlMs?: number;
  /**
   * Longest wait for one Redis command, and for the first connection after start, in ms.
   * Once connected, a command while Redis is unreachable fails at once. Default 2000.
   */
  commandTimeoutMs?: number;
  /** Receives errors thrown by live-feed listeners. Default: ignored. */
  onListenerError?: (error: unknown) => void;
  /**
   * Every this many ms, the process reads the heads of the channels it follows (one round trip
   * for all of them) and repairs from the log any channel whose pub/sub notifications were
   * lost, so that no loss stays unseen longer than this. 0 turns the check off. Default 10 000.
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

/** Most data per append script call, in JSON characters (at least one event goes). */
const MAX_BATCH_BYTES = 1_048_576;

interface PendingAppend {
  type: string;
  data: unknown;
  json: string;
  resolve(event: LiveEvent): void;
  reject(error: unknown): void;
}

/** The source of this broker's empty epochs: the same for every process on one Redis. */
const EMPTY_SOURCE = 'r000';

/** Redis replies that mean "not now" rather than "wrong". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|OOM)\b/;

export function redisBroker(options: RedisBrokerOptions = {}): RedisBroker {
  const prefix = options.prefix ?? 'tandem';
  const retentionMs = options.retentionMs ?? DEFAULTS.retentionMs;
  const maxEvents = options.maxEventsPerChannel ?? DEFAULTS.maxEventsPerChannel;
  const idleTtlMs = options.idleTtlMs ?? DEFAULTS.idleTtlMs;
  const commandTimeoutMs = options.commandTimeoutMs ?? 2000;
  if (!(retentionMs > 0)) throw new RangeError('retentionMs must be positive');
  if (!Number.isInteger(maxEvents) || maxEvents < 1) throw new RangeError('maxEventsPerChannel must be ≥ 1');
  if (/[{}*?[\]\\]/.test(prefix)) throw new RangeError('prefix may not contain {}*?[]\\');

  const reconnectStrategy = (retries: number) => Math.min(50 * 2 ** retries, 1000) + Math.random() * 100;
  const owned = options.client === undefined;
  const client: RedisClientLike =
    options.client ??
    (createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy, connectTimeout: commandTimeoutMs },
    }) as unknown as RedisClientLike);
  // RESP2 subscriber connection; keeps its queue so SUBSCRIBE waits for a reconnect.
  const subscriber = client.duplicate({
    disableOfflineQueue: false,
    socket: { reconnectStrategy, connectTimeout: commandTimeoutMs },
  });

  const feedChannelPrefix = `${prefix}:ev:`;
  const metaKey = (channel: string) => `${prefix}:{${channel}}:meta`;
  const logKey = (channel: string) => `${prefix}:{${channel}}:log`;
  const append = script(APPEND_SCRIPT);
  const read = script(READ_SCRIPT);
  const rewind = script(REWIND_SCRIPT);

  let closed = false;
  let everReady = client.isReady;
  let patternSubscribed = false;
  let feedActive = false;
  let lastError: unknown;

  const onError = (error: unknown) => {
    lastError = error;
  };
  const onClientReady = () => {
    everReady = true;
    feed.retry();
  };
  client.on('error', onError);
  client.on('ready', onClientReady);
  subscriber.on('error', onError);
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

  const unavailable = (cause?: unknown) =>
    new TandemError('broker_unavailable', 'Redis is unreachable', { cause: cause ?? lastError });

  /** Waits for the very first connection, at most `commandTimeoutMs`. */
  const firstConnection = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off('ready', done);
        reject(unavailable());
      }, commandTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        resolve();
      };
      client.on('ready', done);
    });

  /**
   * Sends at once (in call order, which `subscribe` relies on) once connected; never queues
   * while Redis is away: the command client has no offline queue, so that fails immediately.
   */
  const command = (args: string[]): Promise<unknown> => {
    if (closed) return Promise.reject(new TandemError('broker_unavailable', 'the broker is closed'));
    const send = () =>
      client.sendCommand(args, { timeout: commandTimeoutMs }).catch((error: unknown) => {
        throw toTandemError(error);
      });
    return everReady || client.isReady ? send() : firstConnection().then(send);
  };

  const toTandemError = (error: unknown): TandemError => {
    if (isTandemError(error)) return error;
    if (error instanceof ErrorReply && !TRANSIENT_REPLY.test(error.message)) {
      return new TandemError('internal', `Redis replied: ${error.message}`, { cause: error });
    }
    return unavailable(error);
  };

  const runScript = async (
    s: Script,
    channel: string,
    args: string[],
    // The prologue's arguments, shared by append and read; the rewind guard has its own.
    head = [newEpoch(), String(retentionMs), String(idleTtlMs)],
  ): Promise<unknown> => {
    const keys = [metaKey(channel), logKey(channel)];
    const tail = [String(keys.length), ...keys, ...head, ...args];
    try {
      return await command(['EVALSHA', s.sha, ...tail]);
    } catch (error) {
      const cause = isTandemError(error) ? error.cause : undefined;
      if (!(cause instanceof ErrorReply) || !cause.message.startsWith('NOSCRIPT')) throw error;
      return command(['EVAL', s.source, ...tail]);
    }
  };

  /**
   * Appends in call order. A channel has at most one append script in flight: the appends
   * made meanwhile wait and go together in the next one. Pipelining them instead could reorder
   * them whenever Redis has not cached the script (first use, a restart, `SCRIPT FLUSH`): a
   * call failing with NOSCRIPT and retried would come after calls sent behind it that found
   * the script, loaded meanwhile by its own retry or another process. Batching keeps the
   * throughput of pipelining: the busier a channel, the more events per script call.
   */
  const appending = new Map<string, PendingAppend[]>();
  const appendBatch = async (channel: string, batch: PendingAppend[]): Promise<void> => {
    const args = [String(maxEvents), feedChannelPrefix + channel];
    for (const p of batch) args.push(p.type, p.json);
    try {
      const [epoch, first, ts] = (await runScript(append, channel, args)) as [string, number, number];
      let offset = Number(first);
      for (const p of batch) {
        p.resolve({ channel, type: p.type, data: p.data, offset: offset++, epoch, ts: Number(ts) });
      }
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
    const waiting = appending.get(channel) ?? [];
    if (waiting.length === 0) {
      appending.delete(channel);
      return;
    }
    // At most MAX_BATCH_BYTES of data per script (and at least one event): Redis runs a script
    // alone, so one huge call would hold every other client.
    let bytes = 0;
    let take = 0;
    while (take < waiting.length && (take === 0 || bytes + waiting[take]!.json.length <= MAX_BATCH_BYTES)) {
      bytes += waiting[take]!.json.length;
      take++;
    }
    void appendBatch(channel, waiting.splice(0, take));
  };

  const readLog = async (
    channel: string,
    after: number,
    limit: number,
    expectEpoch: string | undefined,
  ): Promise<ReadResult> => {
    const reply = (await runScript(read, channel, [String(after), String(limit), expectEpoch ?? ''])) as [
      string,
      number,
      number,
      [string, string[]][],
      number,
      number,
    ];
    const [epoch, head, oldest, entries, created, now] = reply;
    // No log: the channel is read as empty, under an epoch that names when it was seen so.
    if (epoch === '') return { epoch: emptyEpoch(EMPTY_SOURCE, Number(now)), head: 0, oldest: 1, events: [] };
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

  const headCheckMs = options.headCheckMs ?? 10_000;
  const heads = new HeadCheck(
    feed,
    feedSource.position,
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
    while (!closed && !patternSubscribed) {
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

  const connect = (c: RedisClientLike) => {
    if (c.isOpen) return Promise.resolve();
    return c.connect().then(
      () => undefined,
      (error: unknown) => {
        lastError = error;
      },
    );
  };
  const clientConnected = owned ? connect(client) : client.isOpen ? Promise.resolve() : connect(client);
  const subscriberConnected = connect(subscriber).then(subscribePattern);

  return {
    async append(channel, type, data, serialised) {
      assertFieldValue('event', type);
      const json = serialised ?? JSON.stringify(data === undefined ? null : data);
      return new Promise<LiveEvent>((resolve, reject) => {
        const pending: PendingAppend = { type, data, json, resolve, reject };
        const waiting = appending.get(channel);
        if (waiting) {
          waiting.push(pending);
          return;
        }
        appending.set(channel, []);
        void appendBatch(channel, [pending]);
      });
    },

    async info(channel): Promise<ChannelInfo> {
      const { epoch, head, oldest, created } = await readLog(channel, 0, 0, undefined);
      return { epoch, head, oldest, created };
    },

    continues(empty, log) {
      return emptyContinues(empty, log, EMPTY_SOURCE, idleTtlMs);
    },

    read(channel, after, limit) {
      return readLog(
        channel,
        Math.max(0, Math.floor(after)),
        limit === undefined ? -1 : Math.max(0, limit),
        undefined,
      );
    },

    subscribe(channel, listener) {
      return feed.subscribe(channel, listener);
    },

    stats() {
      return { ...feed.stats(), headChecks: heads.checks, headRepairs: heads.repairs };
    },

    async ready() {
      await Promise.all([clientConnected, subscriberConnected]);
      if (!everReady && !client.isReady) await firstConnection();
      if (!feedActive) throw unavailable();
    },

    async close() {
      if (closed) return;
      closed = true;
      heads.stop();
      feed.close();
      client.off('error', onError);
      client.off('ready', onClientReady);
      destroy(subscriber);
      if (!owned) return;
      // Graceful when Redis answers; a dead socket could keep `close()` waiting for replies.
      if (client.isReady) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const graceful = client.close().then(
          () => true,
          () => false,
        );
        const timeout = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), Math.min(commandTimeoutMs, 500));
        });
        const closedGracefully = await Promise.race([graceful, timeout]);
        clearTimeout(timer);
        if (closedGracefully) return;
      }
      destroy(client);
    },
  };
}

/** Drops a connection now; node-redis throws when it is already closed. */
function destroy(client: RedisClientLike): void {
  try {
    client.destroy();
  } catch {
    // already closed
  }
}
