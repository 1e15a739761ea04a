import type { LiveEvent } from 'tandem/protocol';
import type { Broker } from 'tandem/server';
import { ORDER_CREATED, type Order } from './orders';

/**
 * The demo on PostgreSQL (`DATABASE_URL`): the broker keeps its log in the app's database, and
 * an order is written to `demo_orders` and published in one transaction, so an order exists if
 * and only if its event does. Loaded only when asked for, so the demo runs without `pg`.
 */
export async function postgresDemo(connectionString: string): Promise<{
  broker: Broker;
  publishOrder(channel: string, order: Order): Promise<LiveEvent>;
}> {
  const [{ default: pg }, { postgresBroker, publishInTransaction }] = await Promise.all([
    import('pg'),
    import('tandem/postgres'),
  ]);
  const pool = new pg.Pool({ connectionString, connectionTimeoutMillis: 2000 });
  pool.on('error', () => {}); // an idle connection lost; the next query opens another
  const broker = postgresBroker({ pool });
  await broker.ready();
  await pool.query(`create table if not exists demo_orders (
    id text primary key, channel text not null, customer text not null, item text not null,
    amount bigint not null, source text not null, created_at timestamptz not null default now())`);

  return {
    broker: {
      ...broker,
      async close() {
        await broker.close();
        await pool.end();
      },
    },
    async publishOrder(channel, order) {
      const client = await pool.connect();
      let offset: number;
      try {
        await client.query('begin');
        await client.query(
          'insert into demo_orders (id, channel, customer, item, amount, source) values ($1, $2, $3, $4, $5, $6)',
          [order.id, channel, order.customer, order.item, order.amount, order.source],
        );
        offset = await publishInTransaction(client, channel, ORDER_CREATED, order);
        await client.query('commit');
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
      // The event as stored, for the answer (its epoch and time come from the log).
      const [event] = (await broker.read(channel, offset - 1, 1)).events;
      if (!event) throw new Error(`order ${order.id} was published at offset ${offset}, no longer retained`);
      return event;
    },
  };
}
