import { type LiveEvent, TandemError } from '../protocol';

/** Longest idempotency key, as the broker contract says. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** Refuses a key that is not 1-200 characters, with `bad_request`. */
export function checkIdempotencyKey(key: unknown): asserts key is string | undefined {
  if (key === undefined) return;
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new TandemError('bad_request', `idempotencyKey must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
}

/**
 * One channel's idempotency keys, each with the event its first append made, oldest first (a
 * Map keeps insertion order, and appends come in time order), so forgetting stops at the first
 * key still within the window.
 */
export class IdempotencyKeys {
  /** Made at the first key: most channels never see one. */
  private keys: Map<string, LiveEvent> | undefined;

  get size(): number {
    return this.keys?.size ?? 0;
  }

  get(key: string): LiveEvent | undefined {
    return this.keys?.get(key);
  }

  /** The event `key` made if it was appended since `cutoff`; forgets every key older. */
  recall(key: string | undefined, cutoff: number): LiveEvent | undefined {
    this.forget(cutoff);
    return key === undefined ? undefined : this.keys?.get(key);
  }

  set(key: string, event: LiveEvent): void {
    this.keys ??= new Map();
    this.keys.set(key, event);
  }

  /** Forgets the keys of appends before `cutoff`. */
  forget(cutoff: number): void {
    if (!this.keys) return;
    for (const [key, event] of this.keys) {
      if (event.ts >= cutoff) break;
      this.keys.delete(key);
    }
  }
}
