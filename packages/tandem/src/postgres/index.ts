export type { PostgresBroker, PostgresBrokerOptions, PostgresBrokerStats } from './broker';
export { postgresBroker } from './broker';
export { migratePostgres } from './migrate';
export type { PublishInTransactionOptions } from './publish';
export { publishInTransaction } from './publish';
export { postgresSchemaSql } from './schema';
