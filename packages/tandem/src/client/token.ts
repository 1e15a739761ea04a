import type { TokenSource } from './options';

/**
 * The bearer token of a client: fetched once, reused by stream and polls, and fetched again
 * after the server refused it (`401`, a `token_expired` bye). Concurrent callers share one call.
 */
export class TokenProvider {
  private token: string | null = null;
  private stale = true;
  private pending: Promise<string | null> | null = null;

  constructor(private readonly source: TokenSource | undefined) {}

  get(): Promise<string | null> {
    const source = this.source;
    if (source === undefined) return Promise.resolve(null);
    if (typeof source === 'string') return Promise.resolve(source);
    if (!this.stale && this.token !== null) return Promise.resolve(this.token);
    this.pending ??= (async () => {
      try {
        const value = await source();
        this.token = value ?? null;
        this.stale = false;
        return this.token;
      } finally {
        this.pending = null;
      }
    })();
    return this.pending;
  }

  /** The server refused the token: the next `get` asks the source again. */
  invalidate(): void {
    this.stale = true;
  }
}
