import { TandemError } from '../protocol';

/**
 * Refusals in a row (a `401`, a token function that fails) after which the client slows down:
 * a user logged out, or with no token, must not have every open tab knock twice a second.
 */
export const REFUSALS_BEFORE_PAUSE = 3;
/** From then on, the least time between two attempts, stream or poll. */
export const REFUSED_PAUSE_MS = 30_000;

/**
 * A token that expires (a JWT's `exp`, or the expiry the hub announces) is replaced this long
 * before it does, or half its remaining life before if that is sooner (a 5 s token is replaced
 * after about 2.5 s, not asked for again on every use).
 */
export const REFRESH_BEFORE_EXPIRY_MS = 10_000;

/** How long before an expiry `expiresInMs` away a token should be replaced. */
export function refreshLead(expiresInMs: number): number {
  return Math.min(REFRESH_BEFORE_EXPIRY_MS, Math.max(0, expiresInMs) / 2);
}

/** Why the token function is called. */
export type TokenReason =
  /** The first connect, or a connect after `stop()`: no token yet. */
  | 'connect'
  /** The token expires soon (see `REFRESH_BEFORE_EXPIRY_MS`): the client moves to a new stream with a new one. */
  | 'expiry'
  /** The server refused the token (`401`, or a `token_expired` bye). */
  | 'unauthorized';

export interface TokenContext {
  reason: TokenReason;
  /** The token given last time, or null. */
  previous: string | null;
}

/** A bearer token, or a function that returns a fresh one, told why it is called. */
export type TokenSource =
  | string
  | ((context: TokenContext) => string | null | undefined | Promise<string | null | undefined>);

/**
 * The claims of a JWT (its payload, never verified: the hub verifies), or null for anything
 * else. The payload's bytes are read one to a character, not as UTF-8: enough for `exp`, and a
 * faithful image of any other claim, so that equal claims still give equal text (tab groups).
 */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims: unknown = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')));
    return claims && typeof claims === 'object' && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** The `exp` of a JWT, in ms, or null for anything else (opaque tokens are never judged). */
export function jwtExpiry(token: string): number | null {
  const exp = jwtClaims(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null;
}

/**
 * The bearer token of a client: fetched once and reused by stream and polls; fetched again
 * after the server refused it (`401`, a `token_expired` bye) and, for a JWT, shortly before its
 * `exp`. Concurrent callers share one call.
 */
export class TokenProvider {
  #token: string | null = null;
  #expiresAt: number | null = null;
  /** When the current token should be replaced (`expiresAt` less the lead). */
  #renewAt: number | null = null;
  #refused = false;
  /** Refusals since the server last accepted a token, the last one, and when it came. */
  #refusals = 0;
  #refusal: TandemError | undefined;
  #refusedAt = 0;
  #pending: Promise<string | null> | null = null;

  readonly #source: TokenSource | undefined;
  readonly #now: () => number;

  constructor(source: TokenSource | undefined, now: () => number = Date.now) {
    this.#source = source;
    this.#now = now;
  }

  /** Why the next `get` would call the source, or null when the current token serves. */
  #reason(): TokenReason | null {
    if (this.#refused) return 'unauthorized';
    if (this.#token === null) return 'connect';
    if (this.#renewAt !== null && this.#now() >= this.#renewAt) return 'expiry';
    return null;
  }

  /** When the current token should be replaced (ms), or null when it does not expire. */
  get refreshAt(): number | null {
    return this.#renewAt;
  }

  /** Whether the source can give new tokens (a function), so a stream can move to a new one. */
  get refreshable(): boolean {
    return typeof this.#source === 'function';
  }

  /** The token to use now: the current one, or a new one when it is missing, refused or expiring. */
  get(): Promise<string | null> {
    const source = this.#source;
    if (source === undefined) return Promise.resolve(null);
    if (typeof source === 'string') return Promise.resolve(source);
    const reason = this.#reason();
    if (reason === null) return Promise.resolve(this.#token);
    return this.#ask(source, reason);
  }

  /**
   * A new token before the current one expires (`reason: 'expiry'`), whatever the provider
   * believed about it: the hub announced the expiry. Shares a call already under way.
   */
  refresh(): Promise<string | null> {
    const source = this.#source;
    if (typeof source !== 'function') return this.get();
    return this.#ask(source, this.#refused ? 'unauthorized' : 'expiry');
  }

  /**
   * The hub says the current token expires in `expiresInMs`: it is replaced before then
   * (sooner than a JWT's `exp` says if the hub's clock or rules say so).
   */
  expiresIn(expiresInMs: number): void {
    const at = this.#now() + expiresInMs;
    if (this.#expiresAt === null || at < this.#expiresAt) this.#setExpiry(at);
  }

  #setExpiry(at: number | null): void {
    this.#expiresAt = at;
    this.#renewAt = at === null ? null : at - refreshLead(at - this.#now());
  }

  #ask(source: Exclude<TokenSource, string>, reason: TokenReason): Promise<string | null> {
    if (this.#pending) return this.#pending;
    // Released once settled, and never before it is set: a source that throws at once settles
    // during this call, and a release then would leave its failure shared by every later call.
    const pending = this.#call(source, reason).finally(() => {
      if (this.#pending === pending) this.#pending = null;
    });
    this.#pending = pending;
    return pending;
  }

  async #call(source: Exclude<TokenSource, string>, reason: TokenReason): Promise<string | null> {
    try {
      const value = await source({ reason, previous: this.#token });
      this.#token = value ?? null;
      this.#setExpiry(this.#token ? jwtExpiry(this.#token) : null);
      this.#refused = false;
      return this.#token;
    } catch (cause) {
      // The app sees what failed, not only that something did.
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new TandemError('unauthorized', `the token provider failed: ${message}`, { cause });
    }
  }

  /**
   * The token may no longer be used: the next `get` asks the source again. With `refusal` (a
   * `401`, a source that failed), it counts towards the pause; without it, the token expired.
   */
  invalidate(refusal?: TandemError): void {
    this.#refused = true;
    if (!refusal) return;
    this.#refusal = refusal;
    this.#refusals++;
    this.#refusedAt = this.#now();
  }

  /** The server accepted the token (a stream said hello, a poll answered). */
  accepted(): void {
    this.#refusals = 0;
  }

  /**
   * After `REFUSALS_BEFORE_PAUSE` refusals in a row, the pause before the next attempt (until
   * `REFUSED_PAUSE_MS` after the last refusal), as the error that reports it, its wait in
   * `retryAfterMs`; null while attempts may go on.
   */
  pause(): TandemError | null {
    const waitMs = this.#refusedAt + REFUSED_PAUSE_MS - this.#now();
    if (this.#refusals < REFUSALS_BEFORE_PAUSE || waitMs <= 0) return null;
    const last = this.#refusal;
    return new TandemError(
      'unauthorized',
      `refused ${this.#refusals} times in a row, retrying every 30 s (last: ${last?.message})`,
      { retryAfterMs: waitMs, cause: last },
    );
  }
}
