import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresBroker, postgresSchemaSql } from '../../src/postgres';
import { runTandem } from '../cli/serve-process';
import { type PostgresServer, startPostgres } from '../helpers/postgres-server';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe('tandem migrate', () => {
  it('prints the schema SQL, the same that postgresSchemaSql returns', async () => {
    const run = runTandem(['migrate', '--print', '--schema', 'app_events']);
    expect(await run.exited).toBe(0);
    expect(run.output()).toBe(postgresSchemaSql('app_events'));
  }, 60_000);

  it('applies it to DATABASE_URL once, and then finds nothing to do; hubs with migrate: false start on it', async () => {
    const first = runTandem(['migrate', '--schema', 'migrated'], { DATABASE_URL: server.url });
    expect(await first.exited).toBe(0);
    expect(first.output()).toBe('schema "migrated": version 0 → 1\n');
    const again = runTandem(['migrate', '--schema', 'migrated'], { DATABASE_URL: server.url });
    expect(await again.exited).toBe(0);
    expect(again.output()).toBe('schema "migrated" is at version 1\n');

    const broker = postgresBroker({ connectionString: server.url, schema: 'migrated', migrate: false });
    try {
      await broker.ready();
      expect((await broker.append('orders', 't', 1)).offset).toBe(1);
    } finally {
      await broker.close();
    }
    const client = new pg.Client(server.url);
    await client.connect();
    try {
      expect((await client.query(`select version from migrated.meta`)).rows).toEqual([{ version: 1 }]);
    } finally {
      await client.end();
    }
  }, 60_000);

  it('refuses a bad schema name and a missing database, with exit code 2', async () => {
    const bad = runTandem(['migrate', '--print', '--schema', 'Bad-Name']);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/--schema: schema must be/);
    const nowhere = runTandem(['migrate']);
    expect(await nowhere.exited).toBe(2);
    expect(nowhere.output()).toMatch(/set DATABASE_URL or --database-url, or use --print/);
  }, 60_000);
});
