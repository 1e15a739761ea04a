import { isTandemError, TandemError } from '../protocol';

/** A broker failure: `503 broker_unavailable`, unless it already is a TandemError with its own code. */
export function brokerError(error: unknown): TandemError {
  if (isTandemError(error)) return error;
  return new TandemError('broker_unavailable', 'the event log is unavailable', { cause: error });
}
