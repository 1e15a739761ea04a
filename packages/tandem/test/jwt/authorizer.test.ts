import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { type JwtAuthorizerOptions, jwtAuthorizer } from '../../src/jwt';
import type { ByePayload } from '../../src/protocol';
import { createHub, type HubOptions } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { getJson, openRaw } from '../server/sse-reader';

// 64 bytes: long enough for HS512 too, so only the algorithm decides.
const SECRET = 'a-test-secret-of-sixty-four-bytes-0123456789abcdef0123456789abcd';
const key = new TextEncoder().encode(SECRET);
const nowSeconds = () => Math.floor(Date.now() / 1000);

interface Claims {
  alg?: string;
  exp?: number | null;
  nbf?: number;
  channels?: string[];
}

/** A token for `room` by default: HS256, expiring in an hour. */
function token({ alg = 'HS256', exp = nowSeconds() + 3600, nbf, channels = ['room'] }: Claims = {}) {
  const jwt = new SignJWT({ channels }).setProtectedHeader({ alg }).setSubject('alice');
  if (exp !== null) jwt.setExpirationTime(exp);
  if (nbf !== undefined) jwt.setNotBefore(nbf);
  return jwt.sign(key);
}

let server: HubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(options: JwtAuthorizerOptions, hubOptions: HubOptions = {}) {
  server = await startHubServer(createHub({ ...hubOptions, authorize: jwtAuthorizer(options) }));
  return server.url;
}

/** A poll with the token: status and error code, if any. */
async function poll(url: string, jwt: string) {
  const { status, body } = await getJson(`${url}/poll?channels=room`, { authorization: `Bearer ${jwt}` });
  return { status, code: (body as { error?: { code: string; message: string } }).error?.code, body };
}

describe('jwtAuthorizer', () => {
  it('pins the HMAC algorithm: an HS512 token is refused where HS256 is meant', async () => {
    const url = await serve({ secret: SECRET });
    expect(await poll(url, await token())).toMatchObject({ status: 200 });
    const hs512 = await poll(url, await token({ alg: 'HS512' }));
    expect(hs512).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(hs512.body).toMatchObject({ error: { message: "the token's algorithm is not accepted" } });
    await server!.close();
    // Asked for, HS512 is accepted (the same token, the same secret).
    const hs512Url = await serve({ secret: SECRET, algorithms: ['HS512'] });
    expect(await poll(hs512Url, await token({ alg: 'HS512' }))).toMatchObject({ status: 200 });
    expect(await poll(hs512Url, await token())).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('applies clockToleranceSeconds to exp as to nbf', async () => {
    const strict = await serve({ secret: SECRET });
    const expired = await token({ exp: nowSeconds() - 5 });
    const early = await token({ nbf: nowSeconds() + 5 });
    expect(await poll(strict, expired)).toMatchObject({ status: 401, code: 'token_expired' });
    expect(await poll(strict, early)).toMatchObject({ status: 401, code: 'unauthorized' });
    await server!.close();

    const tolerant = await serve({ secret: SECRET, clockToleranceSeconds: 60 });
    expect(await poll(tolerant, early)).toMatchObject({ status: 200 });
    expect(await poll(tolerant, expired)).toMatchObject({ status: 200 });
    // A stream too: it opens, and lives until exp + tolerance.
    const stream = await openRaw(`${tolerant}/stream?channels=room`, { authorization: `Bearer ${expired}` });
    expect(stream.status).toBe(200);
    await stream.next((e) => e.type === 'tandem:hello');
    stream.close();
    // Past the tolerance too, it is expired.
    expect(await poll(tolerant, await token({ exp: nowSeconds() - 61 }))).toMatchObject({
      status: 401,
      code: 'token_expired',
    });
  });

  it('requires exp unless told not to', async () => {
    const withoutExp = await token({ exp: null });
    const url = await serve({ secret: SECRET });
    const refused = await poll(url, withoutExp);
    expect(refused).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(refused.body).toMatchObject({ error: { message: 'the token has no exp claim' } });
    await server!.close();
    const lenient = await serve({ secret: SECRET, requireExp: false });
    expect(await poll(lenient, withoutExp)).toMatchObject({ status: 200 });
  });

  it('ends a stream at its token expiry, not at the next heartbeat', async () => {
    // A heartbeat far longer than the test: only a deadline of the stream's own can end it.
    const url = await serve({ secret: SECRET }, { heartbeatMs: 600_000 });
    const exp = nowSeconds() + 2;
    const stream = await openRaw(`${url}/stream?channels=room`, {
      authorization: `Bearer ${await token({ exp })}`,
    });
    await stream.next((e) => e.type === 'tandem:hello');
    const bye = await stream.next((e) => e.type === 'tandem:bye', 15_000);
    // Never before the expiry.
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    expect(JSON.parse(bye.data) as ByePayload).toEqual({ reason: 'token_expired' });
    await stream.ended;
    expect(server!.hub.stats().connections).toBe(0);
  });

  it('reads a secret function at the first request; without a secret requests fail with 500, creation never throws', async () => {
    let secret: string | undefined;
    let reads = 0;
    const url = await serve({
      secret: () => {
        reads++;
        return secret;
      },
    });
    expect(reads).toBe(0);
    const jwt = await token();
    const missing = await poll(url, jwt);
    expect(missing).toMatchObject({ status: 500, code: 'internal' });
    expect(missing.body).toMatchObject({ error: { message: 'the server has no key to verify tokens' } });
    // No token at all is still a plain 401: the secret is not needed to refuse it.
    expect((await getJson(`${url}/poll?channels=room`)).status).toBe(401);
    secret = SECRET;
    expect(await poll(url, jwt)).toMatchObject({ status: 200 });
    expect(await poll(url, jwt)).toMatchObject({ status: 200 });
    // Kept once found.
    expect(reads).toBe(2);
    await server!.close();

    expect(() => jwtAuthorizer({})).not.toThrow();
    const none = await serve({});
    expect(await poll(none, jwt)).toMatchObject({ status: 500, code: 'internal' });
  });

  it('verifies against a key set, RS256 by default, and refuses HMAC tokens there', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    const url = await serve({ jwks: { keys: [jwk] } });
    const signed = await new SignJWT({ channels: ['room'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setExpirationTime(nowSeconds() + 60)
      .sign(privateKey);
    expect(await poll(url, signed)).toMatchObject({ status: 200 });
    expect(await poll(url, await token())).toMatchObject({ status: 401, code: 'unauthorized' });
  });
});
