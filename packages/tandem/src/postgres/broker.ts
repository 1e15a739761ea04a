/**
 * `postgresBroker`: the log of every channel lives in PostgreSQL, next to the app's data, so an
 * event can be published in the same transaction as the rows it is about (`<schema>.publish`),
 * and any number of hub processes share the log and can resume any client. Each process holds
 * one LISTEN connection for the live feed (notifications are sent at commit) and fans it out
 * locally; holes in the feed are repaired from the log, and a head check every `headCheckMs`
 * catches what was lost with no later event to show it.
 */
import pg from 'pg';
import {
  checkIdempotencyKey,
  BROKER_DEFAULTS as DEFAULTS,
  emptyContinues,
  HeadCheck,
  LiveFeed,
  OrderedAppends,
} from '../broker';
import { assertFieldValue } from '../protocol';
import { storeAppends } from './appends';
import { parseNotice } from './codec';
import { toTandemError } from './errors';
import { Listener } from './listener';
import { prepareSchema } from './migrate';
import type { PostgresBroker, PostgresBrokerOptions } from './options';
import { assertSchemaName } from './schema';
import { Store } from './store';
import { Sweeper } from './sweeper';

export type { PostgresBroker, PostgresBrokerOptions, PostgresBrokerStats } from './options';

/**
 * A broker on PostgreSQL: the log of every channel in `<schema>.events`, shared by every hub on
 * the database, and publishable inside the app's own transactions (`publishInTransaction`, or
 * `<schema>.publish(channel, type, data)` in SQL). Creates or upgrades its schema at start
 * unless `migrate` is false. Throws a TypeError or RangeError naming a bad option.
 */
export function postgresBroker(options: PostgresBrokerOptions): PostgresBroker {
  const schema = options.schema ?? 'tandem';
  const retentionMs = positive('retentionMs', options.retentionMs ?? DEFAULTS.retentionMs);
  const maxEvents = options.maxEventsPerChannel ?? DEFAULTS.maxEventsPerChannel;
  const idleTtlMs = nonNegative('idleTtlMs', options.idleTtlMs ?? DEFAULTS.idleTtlMs);
  const windowMs = nonNegative(
    'idempotencyWindowMs',
    options.idempotencyWindowMs ?? DEFAULTS.idempotencyWindowMs,
  );
  const commandTimeoutMs = positive('commandTimeoutMs', options.commandTimeoutMs ?? 2000);
  const headCheckMs = nonNegative('headCheckMs', options.headCheckMs ?? 10_000);
  const sweepMs = positive('sweepMs', options.sweepMs ?? 10_000);
  if (typeof schema !== 'string') throw new TypeError('postgresBroker.schema must be a string');
  assertSchemaName(schema);
  if (!Number.isInteger(maxEvents) || maxEvents < 1) {
    throw new RangeError('postgresBroker.maxEventsPerChannel must be an integer ≥ 1');
  }
  if (options.pool === undefined && typeof options.connectionString !== 'string') {
    throw new TypeError('postgresBroker needs a connectionString (string) or a pool');
  }

  const owned = options.pool === undefined;
  const pool =
    options.pool ??
    new pg.Pool({
      connectionString: options.connectionString,
      connectionTimeoutMillis: commandTimeoutMs,
      statement_timeout: commandTimeoutMs,
      keepAlive: true,
      application_name: 'tandem',
    });
  // An idle client of our own pool that loses its server must not crash the process.
  if (owned) pool.on('error', () => {});
  const s = `"${schema}"`;
  // A schema dropped under a running hub is created again by the next call: every channel then
  // starts a new epoch, and its clients resync.
  const store = new Store(pool, s, { retentionMs, maxEvents, idleTtlMs, windowMs }, () => {
    prepared = undefined;
  });
  const appends = new OrderedAppends(storeAppends(store));
  let closed = false;
  let source: string | undefined;

  // The schema is prepared once; until it is, every call tries again (PostgreSQL may be down).
  let prepared: Promise<void> | undefined;
  const ensureSchema = (): Promise<void> => {
    prepared ??= prepareSchema(pool, schema, options.migrate ?? true)
      .then(async () => {
        source = await store.source();
      })
      .catch((error: unknown) => {
        prepared = undefined;
        throw toTandemError(error);
      });
    return prepared;
  };

  const feed = new LiveFeed(
    {
      position: async (channel) => (await ensureSchema().then(() => store.heads([channel])))[0]!,
      read: async (channel, after, epoch) => {
        await ensureSchema();
        return store.read(channel, { after, limit: -1, maxBytes: undefined, expect: epoch });
      },
      rewound: (channel, epoch, last) => store.rewind(channel, epoch, last),
    },
    { onListenerError: options.onListenerError },
  );

  let listening = false;
  const listener = new Listener(pool, schema, {
    notification(payload) {
      const notice = parseNotice(payload);
      if (!notice) return;
      if (notice.kind === 'event') {
        if (feed.has(notice.event.channel)) feed.notify(notice.event);
      } else if (feed.has(notice.channel)) {
        feed.notifyPosition(notice.channel, notice.epoch, notice.offset);
      }
    },
    listening() {
      listening = true;
      // Anything committed before LISTEN took hold was not seen.
      feed.repairAll();
    },
    lost() {
      listening = false;
    },
  });

  const heads = new HeadCheck(
    feed,
    async (channels) => {
      await ensureSchema();
      return store.heads(channels);
    },
    () => listener.fence(commandTimeoutMs),
    headCheckMs,
    Math.min(1000, headCheckMs / 10),
  );
  const sweeper = new Sweeper(() => ensureSchema().then(() => store.sweep(1000)), sweepMs);

  // LISTEN needs no schema: the feed, its head check and the sweep start now, and each retries
  // on its own while PostgreSQL is away.
  listener.start();
  heads.start();
  sweeper.start();

  const readLog = async (channel: string, after: number, limit: number, maxBytes: number | undefined) => {
    await ensureSchema();
    const result = await store.read(channel, { after, limit, maxBytes, expect: undefined });
    return result;
  };

  return {
    async append(channel, type, data, serialised, appendOptions) {
      assertFieldValue('event', type);
      const key = appendOptions?.idempotencyKey;
      checkIdempotencyKey(key);
      if (closed) throw toTandemError(new Error('the broker is closed'));
      await ensureSchema();
      const json = serialised ?? JSON.stringify(data === undefined ? null : data);
      return appends.append(channel, type, data, json, key);
    },

    async info(channel) {
      const { epoch, head, oldest, created } = await readLog(channel, 0, 0, undefined);
      return created === undefined ? { epoch, head, oldest } : { epoch, head, oldest, created };
    },

    continues(empty, log) {
      return source !== undefined && emptyContinues(empty, log, source, idleTtlMs);
    },

    read(channel, after, limit, maxBytes) {
      return readLog(
        channel,
        Math.max(0, Math.floor(after)),
        limit === undefined ? -1 : Math.max(0, Math.floor(limit)),
        maxBytes === undefined ? undefined : Math.max(1, Math.floor(maxBytes)),
      );
    },

    subscribe(channel, listener) {
      return feed.subscribe(channel, listener);
    },

    stats() {
      return {
        ...feed.stats(),
        headChecks: heads.checks,
        headRepairs: heads.repairs,
        listenerPid: listener.pid,
      };
    },

    async ready() {
      await ensureSchema();
      const deadline = Date.now() + commandTimeoutMs;
      while (!listening) {
        if (closed || Date.now() > deadline) throw toTandemError(new Error('LISTEN is not in place'));
        await new Promise((r) => setTimeout(r, 10));
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      heads.stop();
      sweeper.stop();
      feed.close();
      listener.close();
      if (owned) await pool.end().catch(() => {});
    },
  };
}

/** Longest delay a timer takes. */
const MAX_MS = 2_147_483_647;

function milliseconds(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number') throw new TypeError(`postgresBroker.${name} must be a number`);
  if (!Number.isInteger(value) || value < min || value > MAX_MS) {
    throw new RangeError(`postgresBroker.${name} must be a whole number of ms from ${min} to ${MAX_MS}`);
  }
  return value;
}

const positive = (name: string, value: unknown) => milliseconds(name, value, 1);
const nonNegative = (name: string, value: unknown) => milliseconds(name, value, 0);
