import type { ClientBase, Pool } from 'pg';
import { assertChannel, assertFieldValue, TandemError } from '../protocol';
import { assertSchemaName } from './schema';

/** Options of `publishInTransaction`. */
export interface PublishInTransactionOptions {
  /**
   * The schema the broker uses.
   * @default 'tandem'
   */
  schema?: string;
  /**
   * Makes the publish safe to retry: a repeat of `(channel, idempotencyKey)` within 5 minutes
   * returns the first publish's offset and delivers nothing new. 1-200 characters.
   * @default undefined (every publish is a new event)
   */
  idempotencyKey?: string;
}

/**
 * Publishes an event through `client`, inside whatever transaction it has open, and resolves
 * with the event's offset. The event is delivered if and when that transaction commits; a
 * rollback leaves no event and no hole in the offsets. Until then the channel is held: another
 * transaction publishing to it waits for this one to end.
 *
 * ```ts
 * await client.query('begin');
 * await client.query('insert into orders (id, total) values ($1, $2)', [id, total]);
 * await publishInTransaction(client, 'orders', 'order:created', { id, total });
 * await client.query('commit');
 * ```
 */
export async function publishInTransaction(
  client: ClientBase | Pool,
  channel: string,
  type: string,
  data: unknown,
  options: PublishInTransactionOptions = {},
): Promise<number> {
  const schema = options.schema ?? 'tandem';
  assertSchemaName(schema);
  assertChannel(channel);
  assertFieldValue('event', type);
  const key = options.idempotencyKey;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200)) {
    throw new TandemError('bad_request', 'idempotencyKey must be 1-200 characters');
  }
  const json = JSON.stringify(data === undefined ? null : data);
  const { rows } = await client.query<{ offset: string }>(
    `select "${schema}".publish($1, $2, $3::jsonb, $4) as "offset"`,
    [channel, type, json, key ?? null],
  );
  return Number(rows[0]!.offset);
}
