import { isTandemError, TandemError } from '../protocol';

/**
 * SQLSTATEs that mean "not now" rather than "wrong": connection exceptions (08), insufficient
 * resources (53), operator intervention such as a shutdown or `statement_timeout` (57), system
 * errors (58), transaction rollbacks such as a serialization failure (40), a lock not available.
 */
const TRANSIENT = /^(08|53|57|58|40)|^55P03$/;

export function unavailable(cause?: unknown): TandemError {
  return new TandemError('broker_unavailable', 'PostgreSQL is unreachable', { cause });
}

/**
 * A failure of the database as Tandem reports it: `broker_unavailable` (503) when it may pass
 * (unreachable, restarting, a timeout, a conflict), `internal` when PostgreSQL refused the
 * statement itself.
 */
export function toTandemError(error: unknown): TandemError {
  if (isTandemError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !TRANSIENT.test(code)) {
    const message = error instanceof Error ? error.message : String(error);
    return new TandemError('internal', `PostgreSQL replied: ${message} (${code})`, { cause: error });
  }
  // Network errors (ECONNREFUSED…), a connection ended mid-query, a connection timeout.
  return unavailable(error);
}
