import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type PostgresBroker,
  type PostgresBrokerOptions,
  postgresBroker,
  postgresSchemaSql,
  publishInTransaction,
} from '../../src/postgres';
import type { LiveEvent } from '../../src/protocol';
import { type PostgresServer, startPostgres } from '../helpers/postgres-server';

let server: PostgresServer;
let admin: pg.Pool;
const brokers: PostgresBroker[] = [];
let n = 0;
const fresh = (name: string) => `test:${name}-${n++}`;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const open = async (options: Partial<PostgresBrokerOptions> = {}) => {
  const broker = postgresBroker({ connectionString: server.url, ...options });
  brokers.push(broker);
  await broker.ready();
  return broker;
};

/** Runs `work` in a transaction on its own connection; commits unless told to roll back. */
async function transaction<T>(work: (client: pg.PoolClient) => Promise<T>, rollback = false): Promise<T> {
  const client = await admin.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query(rollback ? 'rollback' : 'commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Pool({ connectionString: server.url, max: 25 });
}, 60_000);
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});
afterAll(async () => {
  await admin?.end();
  await server?.stop();
});

describe('publishing inside the app transaction', () => {
  it('delivers an event only once its transaction commits, and never a rolled-back one', async () => {
    const broker = await open();
    const channel = fresh('tx');
    const seen: LiveEvent[] = [];
    broker.subscribe(channel, (e) => seen.push(e));
    await admin.query('create table if not exists orders (id int primary key, total int)');

    const client = await admin.connect();
    try {
      await client.query('begin');
      await client.query('insert into orders values (1, 10)');
      expect(await publishInTransaction(client, channel, 'order:created', { id: 1 })).toBe(1);
      // Not committed: neither read nor delivered. A fence: an event committed after it on
      // another channel arrives, and nothing of this transaction came before it.
      expect((await broker.info(channel)).head).toBe(0);
      const fence: LiveEvent[] = [];
      broker.subscribe(`${channel}-fence`, (e) => fence.push(e));
      await broker.append(`${channel}-fence`, 't', 'fence');
      await vi.waitFor(() => expect(fence).toHaveLength(1));
      expect(seen).toEqual([]);
      await client.query('commit');
    } finally {
      client.release();
    }
    await vi.waitFor(() => expect(seen.map((e) => e.data)).toEqual([{ id: 1 }]));

    await transaction(async (c) => {
      await c.query('insert into orders values (2, 20)');
      expect(await publishInTransaction(c, channel, 'order:created', { id: 2 })).toBe(2);
    }, true);
    // The next commit takes offset 2: the rollback left no hole.
    await transaction((c) => publishInTransaction(c, channel, 'order:created', { id: 3 }));
    await vi.waitFor(() => expect(seen.map((e) => e.offset)).toEqual([1, 2]));
    expect(seen.map((e) => e.data)).toEqual([{ id: 1 }, { id: 3 }]);
    expect((await admin.query('select id from orders order by id')).rows).toEqual([{ id: 1 }]);
    expect((await broker.read(channel, 0)).events.map((e) => e.data)).toEqual([{ id: 1 }, { id: 3 }]);
  });

  it('is plain SQL: publish(channel, type, data) returns the offset, in any client', async () => {
    const broker = await open();
    const channel = fresh('sql');
    const seen: LiveEvent[] = [];
    broker.subscribe(channel, (e) => seen.push(e));
    await admin.query(`select tandem.publish('${channel}', 'note', '{"text":"hi"}')`);
    const offset = await admin.query(`select tandem.publish($1, 'note', $2::jsonb) as "offset"`, [
      channel,
      JSON.stringify({ text: 'again' }),
    ]);
    expect(offset.rows).toEqual([{ offset: '2' }]);
    await vi.waitFor(() => expect(seen.map((e) => e.data)).toEqual([{ text: 'hi' }, { text: 'again' }]));
    await expect(admin.query(`select tandem.publish('bad channel!', 't', '1')`)).rejects.toThrow(
      /invalid channel name/,
    );
    await expect(admin.query(`select tandem.publish($1, E'a\\nb', '1')`, [channel])).rejects.toThrow(
      /event type/,
    );
  });

  it('gives 20 concurrent writers of one channel offsets in commit order: 10 000 events, none lost or twice', async () => {
    const broker = await open();
    const channel = fresh('contend');
    const seen: LiveEvent[] = [];
    broker.subscribe(channel, (e) => seen.push(e));
    const writers = 20;
    const perWriter = 500;
    const committed = new Set<string>();
    let rolledBack = 0;
    await Promise.all(
      range(1, writers).map(async (w) => {
        for (let i = 1; i <= perWriter; ) {
          // Every seventh transaction of a writer rolls back and is tried again.
          const rollback = (w + i) % 7 === 0 && !committed.has(`r${w}/${i}`);
          await transaction(async (c) => {
            await publishInTransaction(c, channel, 'e', { w, i });
            await publishInTransaction(c, channel, 'e', { w, i: i + 1 });
          }, rollback);
          if (rollback) {
            committed.add(`r${w}/${i}`);
            rolledBack++;
            continue;
          }
          committed.add(`${w}/${i}`).add(`${w}/${i + 1}`);
          i += 2;
        }
      }),
    );
    const total = writers * perWriter;
    expect(rolledBack).toBeGreaterThan(0);
    await vi.waitFor(() => expect(seen.length).toBe(total), { timeout: 30_000, interval: 100 });
    expect(seen.map((e) => e.offset)).toEqual(range(1, total));
    const keys = seen.map((e) => `${(e.data as { w: number }).w}/${(e.data as { i: number }).i}`);
    expect(new Set(keys).size).toBe(total);
    // Each writer's events in its own order, and the two events of one transaction adjacent.
    for (let k = 0; k < total; k += 2) {
      const [a, b] = [
        seen[k]!.data as { w: number; i: number },
        seen[k + 1]!.data as { w: number; i: number },
      ];
      expect(b).toEqual({ w: a.w, i: a.i + 1 });
    }
    // Offsets follow commit order: commit timestamps never decrease along the offsets.
    const { rows } = await admin.query<{ out_of_order: string }>(
      `select count(*) as out_of_order from (
         select pg_xact_commit_timestamp(xmin) as at,
                lag(pg_xact_commit_timestamp(xmin)) over (order by "offset") as before
         from tandem.events where channel = $1) t
       where at < before`,
      [channel],
    );
    expect(rows[0]!.out_of_order).toBe('0');
  }, 120_000);
});

describe('isolation levels', () => {
  it('under REPEATABLE READ, a publish after another transaction published to the channel fails with 40001', async () => {
    await open(); // creates the schema when this test runs alone
    const channel = fresh('rr');
    await transaction((c) => publishInTransaction(c, channel, 't', 1));
    const first = await admin.connect();
    try {
      await first.query('begin isolation level repeatable read');
      await first.query('select 1'); // the snapshot is taken here
      await transaction((c) => publishInTransaction(c, channel, 't', 2));
      await expect(publishInTransaction(first, channel, 't', 3)).rejects.toMatchObject({ code: '40001' });
      await first.query('rollback');
      // Retried, it publishes after the other one.
      await first.query('begin isolation level repeatable read');
      expect(await publishInTransaction(first, channel, 't', 3)).toBe(3);
      await first.query('commit');
    } finally {
      first.release();
    }
  });
});

describe('the live feed', () => {
  it('delivers events larger than NOTIFY allows, in order with small ones', async () => {
    const publisher = await open();
    const subscriber = await open();
    const channel = fresh('large');
    const seen: LiveEvent[] = [];
    subscriber.subscribe(channel, (e) => seen.push(e));
    const big = (i: number) => ({ i, blob: 'x'.repeat(10_000 * i) });
    const published = [];
    for (let i = 1; i <= 6; i++) {
      published.push(await publisher.append(channel, 't', i % 2 ? { i } : big(i)));
    }
    await vi.waitFor(() => expect(seen).toHaveLength(6));
    expect(seen.map((e) => e.data)).toEqual(published.map((e) => e.data));
    expect(seen.map((e) => e.offset)).toEqual(range(1, 6));
  });

  it('repairs what it missed while its LISTEN connection was cut', async () => {
    const publisher = await open();
    const subscriber = await open();
    const channel = fresh('cut');
    const seen: LiveEvent[] = [];
    subscriber.subscribe(channel, (e) => seen.push(e));
    for (let i = 1; i <= 100; i++) {
      await publisher.append(channel, 't', i);
      if (i % 30 === 0) {
        const pid = subscriber.stats().listenerPid;
        if (pid !== undefined) await admin.query('select pg_terminate_backend($1)', [pid]);
      }
    }
    await publisher.append(channel, 't', 101);
    await vi.waitFor(() => expect(seen).toHaveLength(101), { timeout: 10_000 });
    expect(seen.map((e) => e.data)).toEqual(range(1, 101));
    await vi.waitFor(() => expect(subscriber.stats().listenerPid).toBeDefined());
  });

  it('finds events whose notification never came within the head check interval', async () => {
    const broker = await open({ headCheckMs: 300 });
    const channel = fresh('silent');
    const seen: LiveEvent[] = [];
    broker.subscribe(channel, (e) => seen.push(e));
    await broker.append(channel, 't', 1);
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    // Two events written as the function would, but with no notification at all.
    await transaction(async (c) => {
      await c.query(
        `insert into tandem.events (channel, "offset", ts, type, data)
         select $1, o, (extract(epoch from clock_timestamp()) * 1000)::bigint, 't', to_json(o)
         from generate_series(2, 3) o`,
        [channel],
      );
      await c.query('update tandem.channels set head = 3 where channel = $1', [channel]);
    });
    await vi.waitFor(() => expect(seen.map((e) => e.data)).toEqual([1, 2, 3]), { timeout: 5000 });
    expect(broker.stats().headRepairs).toBeGreaterThan(0);
  });
});

describe('the broker contract additions', () => {
  it('makes a repeated idempotency key resolve with the first event and deliver nothing new', async () => {
    const broker = await open();
    const channel = fresh('idem');
    const seen: LiveEvent[] = [];
    broker.subscribe(channel, (e) => seen.push(e));
    const first = await broker.append(channel, 't', { n: 1 }, undefined, { idempotencyKey: 'order-1' });
    const again = await broker.append(channel, 't', { n: 2 }, undefined, { idempotencyKey: 'order-1' });
    const other = await broker.append(channel, 't', { n: 3 }, undefined, { idempotencyKey: 'order-2' });
    expect(again).toMatchObject({ epoch: first.epoch, offset: 1, ts: first.ts, data: { n: 1 } });
    expect(other.offset).toBe(2);
    // In a transaction too, and concurrent repeats make one event.
    const offsets = await Promise.all(
      range(1, 5).map(() =>
        transaction((c) => publishInTransaction(c, channel, 't', { n: 4 }, { idempotencyKey: 'order-3' })),
      ),
    );
    expect(offsets).toEqual([3, 3, 3, 3, 3]);
    await vi.waitFor(() => expect(seen.map((e) => e.offset)).toEqual([1, 2, 3]));
  });

  it('reads at most maxBytes of data, but always one event', async () => {
    const broker = await open();
    const channel = fresh('bytes');
    for (let i = 1; i <= 5; i++) await broker.append(channel, 't', 'x'.repeat(98)); // 100 bytes of JSON
    expect((await broker.read(channel, 0, undefined, 250)).events.map((e) => e.offset)).toEqual([1, 2, 3]);
    expect((await broker.read(channel, 0, 2, 1_000)).events.map((e) => e.offset)).toEqual([1, 2]);
    expect((await broker.read(channel, 3, undefined, 1)).events.map((e) => e.offset)).toEqual([4]);
  });
});

describe('the schema', () => {
  it('is created once by hubs starting at the same moment, and the script can run again', async () => {
    const schema = `s${Date.now().toString(36)}`;
    const started = await Promise.all(range(1, 6).map(() => open({ schema })));
    const channel = fresh('schema');
    await started[0]!.append(channel, 't', 1);
    expect((await started[5]!.info(channel)).head).toBe(1);
    await admin.query(postgresSchemaSql(schema));
    expect((await admin.query(`select version from "${schema}".meta`)).rows).toEqual([{ version: 1 }]);
    expect((await started[3]!.read(channel, 0)).events.map((e) => e.data)).toEqual([1]);
  });

  it('with migrate: false, refuses a schema that is not there', async () => {
    const broker = postgresBroker({ connectionString: server.url, schema: 'absent', migrate: false });
    brokers.push(broker);
    await expect(broker.append(fresh('absent'), 't', 1)).rejects.toMatchObject({ code: 'internal' });
  });

  it('refuses bad options at once, naming them', () => {
    expect(() => postgresBroker({})).toThrow(TypeError);
    expect(() => postgresBroker({ connectionString: server.url, schema: 'Bad-Name' })).toThrow(/schema/);
    expect(() => postgresBroker({ connectionString: server.url, retentionMs: 0 })).toThrow(/retentionMs/);
    expect(() => postgresBroker({ connectionString: server.url, maxEventsPerChannel: 0 })).toThrow(
      /maxEventsPerChannel/,
    );
  });
});

describe('retention in the database', () => {
  it('deletes events past the count and the age, and idle channels, whose next publish starts a new epoch', async () => {
    const schema = `r${Date.now().toString(36)}`;
    const broker = await open({
      schema,
      maxEventsPerChannel: 3,
      retentionMs: 1500,
      idleTtlMs: 2000,
      sweepMs: 200,
    });
    const channel = fresh('sweep');
    const rows = async () =>
      (
        await admin.query(`select "offset" from "${schema}".events where channel = $1 order by 1`, [channel])
      ).rows.map((r: { offset: string }) => Number(r.offset));
    const { epoch } = await broker.append(channel, 't', 1);
    for (let i = 2; i <= 7; i++) await broker.append(channel, 't', i);
    await expect.poll(rows, { timeout: 5000, interval: 100 }).toEqual([5, 6, 7]);
    // Then all of them age out; the channel keeps its epoch and head until it is idle.
    await expect.poll(rows, { timeout: 5000, interval: 100 }).toEqual([]);
    await expect
      .poll(
        async () =>
          (await admin.query(`select 1 from "${schema}".channels where channel = $1`, [channel])).rowCount,
        {
          timeout: 8000,
          interval: 100,
        },
      )
      .toBe(0);
    const next = await broker.append(channel, 't', 8);
    expect(next.offset).toBe(1);
    expect(next.epoch).not.toBe(epoch);
  }, 30_000);

  it('keeps a channel a hub follows, however long nobody publishes to it', async () => {
    const schema = `f${Date.now().toString(36)}`;
    const broker = await open({ schema, idleTtlMs: 1000, sweepMs: 100, headCheckMs: 100 });
    const channel = fresh('followed');
    const unfollowed = fresh('unfollowed');
    broker.subscribe(channel, () => {});
    const { epoch } = await broker.append(channel, 't', 1);
    await broker.append(unfollowed, 't', 1);
    // Once the channel nobody follows is gone, the sweep has looked at both past the TTL.
    await expect
      .poll(
        async () =>
          (await admin.query(`select 1 from "${schema}".channels where channel = $1`, [unfollowed])).rowCount,
        {
          timeout: 10_000,
          interval: 100,
        },
      )
      .toBe(0);
    expect(await broker.info(channel)).toMatchObject({ epoch, head: 1 });
  }, 30_000);
});

describe('a schema dropped under running hubs', () => {
  it('is created again, and every channel starts a new epoch that listeners and readers see', async () => {
    const schema = `d${Date.now().toString(36)}`;
    const publisher = await open({ schema });
    const subscriber = await open({ schema });
    const channel = fresh('dropped');
    const seen: LiveEvent[] = [];
    subscriber.subscribe(channel, (e) => seen.push(e));
    const first = await publisher.append(channel, 't', 'before');
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    await admin.query(`drop schema "${schema}" cascade`);
    // The first call after the drop may fail (broker_unavailable); the schema is then made again.
    await expect
      .poll(
        () =>
          publisher.append(channel, 't', 'after').then(
            () => true,
            (e: { code?: string }) => e.code,
          ),
        {
          timeout: 10_000,
        },
      )
      .toBe(true);
    const info = await subscriber.info(channel);
    expect(info.epoch).not.toBe(first.epoch);
    expect(info.head).toBe(1);
    await vi.waitFor(() =>
      expect(seen.map((e) => [e.epoch === first.epoch, e.offset, e.data])).toEqual([
        [true, 1, 'before'],
        [false, 1, 'after'],
      ]),
    );
  });
});
