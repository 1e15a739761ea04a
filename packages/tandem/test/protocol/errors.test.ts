import { describe, expect, it } from 'vitest';
import { isTandemError, TandemError } from '../../src/protocol';
import { brokerError } from '../../src/server/errors';

/** What a TandemError from another copy of the module looks like: same shape, other class. */
class ForeignTandemError extends Error {
  override readonly name = 'TandemError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

describe('recognising a TandemError', () => {
  it('accepts instances and copies from another module instance, nothing else', () => {
    expect(isTandemError(new TandemError('forbidden', 'no'))).toBe(true);
    expect(isTandemError(new ForeignTandemError('forbidden', 'no'))).toBe(true);
    expect(isTandemError(new ForeignTandemError('made_up', 'no'))).toBe(false);
    expect(isTandemError(new Error('TandemError'))).toBe(false);
    expect(isTandemError({ name: 'TandemError' })).toBe(false);
    expect(isTandemError(null)).toBe(false);
    expect(isTandemError('forbidden')).toBe(false);
  });

  it('wraps broker failures as broker_unavailable, keeping errors that have a code', () => {
    const own = new TandemError('payload_too_large', 'big');
    expect(brokerError(own)).toBe(own);
    const foreign = new ForeignTandemError('invalid_channel', 'bad');
    expect(brokerError(foreign)).toBe(foreign);
    const wrapped = brokerError(new Error('ECONNREFUSED'));
    expect(wrapped).toMatchObject({ code: 'broker_unavailable', status: 503 });
    expect((wrapped.cause as Error).message).toBe('ECONNREFUSED');
  });
});
