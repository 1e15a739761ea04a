/** A token that is a JWT with `exp` is asked for anew this long before it expires. */
export const REFRESH_BEFORE_EXPIRY_MS = 10_000;

/** Why the token function is called. */
export type TokenReason =
  /** The first connect, or a connect after `stop()`: no token yet. */
  | 'connect'
  /** The token (a JWT) expires within `REFRESH_BEFORE_EXPIRY_MS`. */
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

/** The `exp` of a JWT, in ms, or null for anything else (opaque tokens are never judged). */
export function jwtExpiry(token: string): number | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const payload = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='))) as {
      exp?: unknown;
    };
    return typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * The bearer token of a client: fetched once and reused by stream and polls; fetched again
 * after the server refused it (`401`, a `token_expired` bye) and, for a JWT, shortly before its
 * `exp`. Concurrent callers share one call.
 */
export class TokenProvider {
  private token: string | null = null;
  private expiresAt: number | null = null;
  private refused = false;
  private pending: Promise<string | null> | null = null;

  constructor(
    private readonly source: TokenSource | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Why the next `get` would call the source, or null when the current token serves. */
  private reason(): TokenReason | null {
    if (this.refused) return 'unauthorized';
    if (this.token === null) return 'connect';
    if (this.expiresAt !== null && this.now() >= this.expiresAt - REFRESH_BEFORE_EXPIRY_MS) return 'expiry';
    return null;
  }

  get(): Promise<string | null> {
    const source = this.source;
    if (source === undefined) return Promise.resolve(null);
    if (typeof source === 'string') return Promise.resolve(source);
    const reason = this.reason();
    if (reason === null) return Promise.resolve(this.token);
    this.pending ??= (async () => {
      try {
        const value = await source({ reason, previous: this.token });
        this.token = value ?? null;
        this.expiresAt = this.token ? jwtExpiry(this.token) : null;
        this.refused = false;
        return this.token;
      } finally {
        this.pending = null;
      }
    })();
    return this.pending;
  }

  /** The server refused the token: the next `get` asks the source again. */
  invalidate(): void {
    this.refused = true;
  }
}
