import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { jwtExpiry, TokenProvider } from '../../src/client/token';

const key = new TextEncoder().encode('a-test-secret-of-enough-length-for-hs256');
const jwt = (exp: number) =>
  new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(key);

describe('token provider', () => {
  it('reuses the token until the server refuses it, then asks again', async () => {
    let n = 0;
    const tokens = new TokenProvider(() => `opaque-${++n}`);
    expect(await tokens.get()).toBe('opaque-1');
    expect(await tokens.get()).toBe('opaque-1');
    tokens.invalidate();
    expect(await tokens.get()).toBe('opaque-2');
  });

  it('shares one call between concurrent callers', async () => {
    let calls = 0;
    const tokens = new TokenProvider(async () => {
      calls++;
      return 't';
    });
    await Promise.all([tokens.get(), tokens.get(), tokens.get()]);
    expect(calls).toBe(1);
  });

  it('asks for a new JWT shortly before its exp', async () => {
    let now = 1_000_000_000_000;
    const exp = Math.floor(now / 1000) + 60;
    let n = 0;
    const tokens = new TokenProvider(
      async () => {
        n++;
        return jwt(exp);
      },
      () => now,
    );
    await tokens.get();
    now += 45_000;
    await tokens.get();
    expect(n).toBe(1);
    now += 6_000; // 9 s before exp
    await tokens.get();
    expect(n).toBe(2);
  });

  it('reads exp from a JWT and nothing from other tokens', async () => {
    expect(jwtExpiry(await jwt(1_900_000_000))).toBe(1_900_000_000_000);
    expect(jwtExpiry('opaque')).toBeNull();
    expect(jwtExpiry('a.b.c')).toBeNull();
  });
});
