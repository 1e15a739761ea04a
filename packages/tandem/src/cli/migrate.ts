/**
 * `tandem migrate`: the PostgreSQL broker's schema for teams that run their migrations
 * themselves. `--print` writes the SQL (one idempotent transaction) to stdout for a migration
 * tool or `psql`; otherwise it is applied to DATABASE_URL (or `--database-url`).
 */

export const MIGRATE_HELP = `Usage: tandem migrate [--schema NAME] [--print | --database-url URL]

Creates or upgrades the PostgreSQL broker's schema (default "tandem").
  --print              write the SQL to stdout instead of applying it
  --database-url URL   the database to migrate (default: DATABASE_URL)
  --schema NAME        the schema the hubs use (postgresBroker's schema option)
`;

export async function migrate(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let schema = 'tandem';
  let print = false;
  let url = env.DATABASE_URL || undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--print') print = true;
    else if (arg === '--schema' && args[i + 1] !== undefined) schema = args[++i] as string;
    else if (arg === '--database-url' && args[i + 1] !== undefined) url = args[++i];
    else {
      process.stderr.write(
        `tandem migrate: unknown or incomplete option ${JSON.stringify(arg)}\n${MIGRATE_HELP}`,
      );
      return 2;
    }
  }
  // Loaded only here: `tandem serve` runs without pg.
  const { migratePostgres, postgresSchemaSql } = await import('../postgres');
  let sql: string;
  try {
    sql = postgresSchemaSql(schema);
  } catch (error) {
    process.stderr.write(`tandem migrate: --schema: ${(error as Error).message}\n`);
    return 2;
  }
  if (print) {
    process.stdout.write(sql);
    return 0;
  }
  if (!url) {
    process.stderr.write(`tandem migrate: set DATABASE_URL or --database-url, or use --print\n`);
    return 2;
  }
  try {
    const { from, to } = await migratePostgres({ connectionString: url, schema });
    process.stdout.write(
      from === to
        ? `schema "${schema}" is at version ${to}\n`
        : `schema "${schema}": version ${from} → ${to}\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`tandem migrate: ${(error as Error).message}\n`);
    return 1;
  }
}
