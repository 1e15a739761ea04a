import type { ShareKit } from './core';

/**
 * Which clients may share a stream: those that follow the same hub as the same identity. The
 * identity is the app's `shareKey`, or else what the bearer token says when it is a JWT — its
 * claims without the times and id that change on every refresh (`exp`, `iat`, `nbf`, `jti`), so
 * tabs share only when their tokens grant the same. An opaque token or cookies say nothing the
 * client can read: such clients do not share unless the app gives a key.
 */

/** Claims that differ between two tokens of one identity (a refresh changes them). */
const VOLATILE_CLAIMS: ReadonlySet<string> = new Set(['exp', 'iat', 'nbf', 'jti']);

/** JSON with object keys sorted, so that equal claims give equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The identity a JWT stands for, or null for anything else. `kit` reads the token's claims. */
export function tokenIdentity(token: string | null, kit: Pick<ShareKit, 'jwtClaims'>): string | null {
  const claims = token ? kit.jwtClaims(token) : null;
  if (!claims) return null;
  const stable = Object.fromEntries(Object.entries(claims).filter(([claim]) => !VOLATILE_CLAIMS.has(claim)));
  return Object.keys(stable).length === 0 ? null : `jwt:${canonical(stable)}`;
}

/** The hub's URL as the page resolves it (a relative `url` is the same hub from every page of the origin). */
export function absoluteUrl(url: string): string {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(url, base).href;
  } catch {
    return url;
  }
}

/** The name of the group of clients that may share a stream, or null when they may not. */
export function groupName(
  url: string,
  shareKey: string | undefined,
  token: string | null,
  kit: Pick<ShareKit, 'jwtClaims'>,
): string | null {
  const identity = shareKey !== undefined ? `key:${shareKey}` : tokenIdentity(token, kit);
  if (identity === null) return null;
  return `tandem:share:v1 ${absoluteUrl(url)} ${identity}`;
}
