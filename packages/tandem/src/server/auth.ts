import { isChannelPermitted, TandemError } from '../protocol';

/** The part of `Headers` the hub reads; a Fetch `Headers` object satisfies it. */
export interface HeaderReader {
  get(name: string): string | null;
}

/** A request as the hub and its hooks see it, whatever the runtime. */
export interface HubRequest {
  method: string;
  /** The request's URL. The Node adapter builds it when it is first read. */
  readonly url: URL;
  /** The URL's path, as the hub routes it. */
  readonly pathname: string;
  /** The URL's query parameters. */
  readonly query: URLSearchParams;
  headers: HeaderReader;
  /** The token from `Authorization: Bearer`, the token cookie, or the `token` query parameter. */
  token: string | null;
  /** The runtime's own request: a Fetch `Request` or a Node `IncomingMessage`. */
  raw: unknown;
  /**
   * Reads the request's body, once, holding at most `maxBytes` of it: a declared length over the
   * bound rejects with `payload_too_large` before a byte is read, and a body that runs past it
   * is dropped as soon as it does, so a huge upload never sits in memory whole.
   */
  body(maxBytes: number): Promise<Uint8Array>;
}

/** What `authorize` grants a request. */
export interface Grant {
  /** Who is asking (user id, service name); reported in metrics-free logs and `disconnect`. */
  subject: string;
  /** Channel patterns this request may read: `*` within a segment, `**` across `/`. */
  channels: readonly string[];
  /** When the credentials expire (ms since the Unix epoch): the stream ends then with `token_expired`. */
  expiresAt?: number;
  /**
   * What a hub with presence shows of this member to the channel's followers (a name, an
   * avatar): a small JSON object, at most `presence.maxInfoBytes`. See docs/presence.md.
   */
  info?: Record<string, unknown>;
}

/**
 * Decides who may read what. Return a grant, or null for `401`. Throw a `TandemError` to answer
 * with its code (e.g. `token_expired`).
 */
export type Authorize = (request: HubRequest) => Grant | null | Promise<Grant | null>;

/** The grant of a hub without `authorize`: everything. */
const OPEN_GRANT: Grant = { subject: 'anonymous', channels: ['**'] };

/**
 * The token of a request, looked up in the order: `Authorization: Bearer`, the cookie, the
 * `token` query parameter (the only way a native EventSource can send one).
 */
export function extractToken(
  headers: HeaderReader,
  url: { readonly searchParams: URLSearchParams },
  cookieName: string,
): string | null {
  const authorization = headers.get('authorization');
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1]!;
  }
  const cookie = headers.get('cookie');
  if (cookie) {
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === cookieName) {
        const value = part.slice(eq + 1).trim();
        try {
          if (value) return decodeURIComponent(value);
        } catch {
          return value;
        }
      }
    }
  }
  return url.searchParams.get('token') || null;
}

/** Runs the hook: a grant, or `401` (`unauthorized`, `token_expired`). */
export async function authenticate(
  authorize: Authorize | undefined,
  request: HubRequest,
  now: number,
): Promise<Grant> {
  const grant = authorize ? await authorize(request) : OPEN_GRANT;
  if (!grant) {
    throw new TandemError(
      'unauthorized',
      request.token ? 'the token was not accepted' : 'authentication required',
    );
  }
  if (grant.expiresAt !== undefined && grant.expiresAt <= now) {
    throw new TandemError('token_expired', 'the token has expired');
  }
  return grant;
}

/** One requested channel outside the grant makes the whole request `403`, never a silent drop. */
export function permit(grant: Grant, channels: readonly string[]): void {
  const denied = channels.filter((channel) => !isChannelPermitted(grant.channels, channel));
  if (denied.length > 0) {
    throw new TandemError('forbidden', `not permitted to read ${denied.slice(0, 5).join(', ')}`);
  }
}
