import { jwtVerify, SignJWT } from 'jose';
import { findTenant, type Tenant, tenantPattern } from './tenants';

/** How long a demo token lives; the client refreshes it before (and on 401). */
export const TOKEN_TTL_SECONDS = 15 * 60;

const SECRET_KEY = Symbol.for('tandem.demo.secret');

/** The HMAC secret shared by the token route and the hub's `jwtAuthorizer`. */
export function demoSecret(): Uint8Array {
  const store = globalThis as { [SECRET_KEY]?: Uint8Array };
  if (!store[SECRET_KEY]) {
    const fromEnv = process.env.TANDEM_DEMO_SECRET;
    store[SECRET_KEY] = fromEnv
      ? new TextEncoder().encode(fromEnv)
      : globalThis.crypto.getRandomValues(new Uint8Array(32));
  }
  return store[SECRET_KEY];
}

/**
 * A JWT for one tenant's operator: it may read `tenant:<id>/**` and nothing else. `viewer` names
 * the browser (the subject the panel's "viewing" lists); tabs of one browser share it, and so
 * one stream.
 */
export async function issueToken(
  tenant: Tenant,
  viewer?: string,
): Promise<{ token: string; expiresAt: number }> {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + TOKEN_TTL_SECONDS;
  const token = await new SignJWT({ tenant: tenant.id, channels: [tenantPattern(tenant.id)] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(viewer ?? `${tenant.id}-operator`)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(demoSecret());
  return { token, expiresAt: exp * 1000 };
}

/** The tenant whose token the request carries (`Authorization: Bearer`), or null. */
export async function tenantOf(request: Request): Promise<Tenant | null> {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '');
  if (!match) return null;
  try {
    const { payload } = await jwtVerify(match[1]!, demoSecret(), { algorithms: ['HS256'] });
    return findTenant(typeof payload.tenant === 'string' ? payload.tenant : null) ?? null;
  } catch {
    return null;
  }
}
