import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postgresBroker } from '../../src/postgres';
import { brokerContract } from '../../src/testing';
import { type PostgresServer, startPostgres } from '../helpers/postgres-server';

let server: PostgresServer;
let admin: pg.Pool;
beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Pool({ connectionString: server.url, max: 2 });
}, 60_000);
afterAll(async () => {
  await admin?.end();
  await server?.stop();
});

brokerContract(
  { describe, it, afterEach, expect },
  {
    name: 'postgresBroker',
    async open(settings) {
      const broker = postgresBroker({ connectionString: server.url, ...settings });
      await broker.ready();
      return broker;
    },
    // The worst loss a database has under running hubs: the schema dropped (and made again).
    async loseLog() {
      await admin.query('drop schema tandem cascade');
    },
  },
);
