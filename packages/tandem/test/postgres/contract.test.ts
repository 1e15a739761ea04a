import { afterAll, beforeAll } from 'vitest';
import { postgresBroker } from '../../src/postgres';
import { type PostgresServer, startPostgres } from '../helpers/postgres-server';
import { brokerContract } from '../redis/broker-contract';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

brokerContract('postgresBroker', async (options) => {
  const broker = postgresBroker({ connectionString: server.url, ...options });
  await broker.ready();
  return broker;
});
