import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresBroker, publishInTransaction } from '../../src/postgres';
import { createHub } from '../../src/server';
import { type Recording, recordedClient, transportNamed } from '../client/harness';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { type PostgresServer, startPostgres } from '../helpers/postgres-server';
import { until } from '../helpers/wait';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('live clients of hubs on PostgreSQL', () => {
  let server: PostgresServer | undefined;
  let pool: pg.Pool | undefined;
  const hubs: HubServer[] = [];
  const clients: Recording[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.client.close();
    await Promise.all(hubs.splice(0).map((h) => h.close()));
    await pool?.end();
    await server?.stop();
    server = pool = undefined;
  });

  const startHub = async (url: string) => {
    const broker = postgresBroker({ connectionString: url });
    await broker.ready();
    const hub = await startHubServer(createHub({ broker, heartbeatMs: 500 }));
    const served = {
      ...hub,
      async close() {
        await hub.close();
        await broker.close();
      },
    };
    hubs.push(served);
    return served;
  };

  it('receive the orders the app commits with their events, on any hub, never a rolled-back one', async () => {
    server = await startPostgres();
    pool = new pg.Pool({ connectionString: server.url, max: 10 });
    await pool.query('create table orders (id int primary key, tenant text not null)');
    const [a, b] = [await startHub(server.url), await startHub(server.url)];
    for (const [i, hub] of [a, a, b, b].entries()) {
      clients.push(
        recordedClient({
          url: `${hub.url}/live`,
          channels: ['tenant:acme/orders'],
          transport: transportNamed(i % 2 ? 'eventsource' : 'fetch'),
          eventTypes: ['order:created'],
        }),
      );
    }
    expect(await until(() => clients.every((c) => c.client.getState().status === 'open'), 10_000)).toBe(true);

    // 40 orders from 4 concurrent writers; every fifth transaction rolls back after publishing.
    const committed: number[] = [];
    await Promise.all(
      range(0, 3).map(async (w) => {
        for (let k = 0; k < 10; k++) {
          const id = w * 10 + k + 1;
          const client = await pool!.connect();
          try {
            await client.query('begin');
            await client.query('insert into orders values ($1, $2)', [id, 'acme']);
            await publishInTransaction(client, 'tenant:acme/orders', 'order:created', { id });
            await client.query(id % 5 === 0 ? 'rollback' : 'commit');
            if (id % 5 !== 0) committed.push(id);
          } finally {
            client.release();
          }
        }
      }),
    );
    // hub.publish beside them, as a fence: after it, everything committed before has arrived.
    await b.hub.publish('tenant:acme/orders', 'order:created', { id: 0 });
    const total = committed.length + 1;
    expect(await until(() => clients.every((c) => c.count() >= total), 10_000)).toBe(true);
    const rows = await pool.query<{ id: number }>('select id from orders order by id');
    expect(rows.rows.map((r) => r.id)).toEqual([...committed].sort((x, y) => x - y));
    for (const c of clients) {
      expect(c.violations).toEqual([]);
      expect(c.resyncs).toEqual([]);
      expect(c.events.map((e) => e.offset)).toEqual(range(1, total));
      // Exactly the committed orders, once each, then the fence; the same order in every client.
      const ids = c.events.map((e) => (e.data as { id: number }).id);
      expect(ids.at(-1)).toBe(0);
      expect(ids.slice(0, -1).sort((x, y) => x - y)).toEqual([...committed].sort((x, y) => x - y));
      expect(ids).toEqual(clients[0]!.events.map((e) => (e.data as { id: number }).id));
    }
  }, 60_000);
});
