import type { Pool } from 'pg';
import { TandemError } from '../protocol';
import { assertSchemaName, postgresSchemaSql, SCHEMA_VERSION } from './schema';

/** The version of the schema in the database; 0 when it has none. */
async function schemaVersion(pool: Pool, schema: string): Promise<number> {
  const exists = await pool.query<{ found: boolean }>('select to_regclass($1) is not null as found', [
    `"${schema}".meta`,
  ]);
  if (!exists.rows[0]?.found) return 0;
  const meta = await pool.query<{ version: number }>(`select version from "${schema}".meta`);
  return meta.rows[0]?.version ?? 0;
}

/**
 * Creates or upgrades the schema unless it is at this version (or a later one, which only adds
 * to it). The script takes an advisory lock first, so hubs starting together migrate once and
 * the others wait, then find nothing to do. With `migrate` false, a schema behind is an error.
 */
export async function prepareSchema(pool: Pool, schema: string, migrate: boolean): Promise<void> {
  const version = await schemaVersion(pool, schema);
  if (version >= SCHEMA_VERSION) return;
  if (!migrate) {
    throw new TandemError(
      'internal',
      `the "${schema}" schema is at version ${version}; this Tandem needs ${SCHEMA_VERSION}: apply postgresSchemaSql('${schema}')`,
    );
  }
  await pool.query(postgresSchemaSql(schema));
}

/**
 * Creates or upgrades the schema in the database at `connectionString`, as a hub with
 * `migrate: true` would at start (`tandem migrate` runs this). Resolves with the versions
 * before and after.
 */
export async function migratePostgres(options: {
  connectionString: string;
  schema?: string;
}): Promise<{ from: number; to: number }> {
  const schema = options.schema ?? 'tandem';
  assertSchemaName(schema);
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: options.connectionString, max: 1 });
  pool.on('error', () => {});
  try {
    const from = await schemaVersion(pool, schema);
    await prepareSchema(pool, schema, true);
    return { from, to: await schemaVersion(pool, schema) };
  } finally {
    await pool.end();
  }
}
