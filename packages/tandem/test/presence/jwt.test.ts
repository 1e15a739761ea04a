import { SignJWT } from 'jose';
import { afterEach, expect, it, vi } from 'vitest';
import { jwtAuthorizer } from '../../src/jwt';
import { createHub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { openRaw } from '../server/sse-reader';

const SECRET = 'a-test-secret-of-enough-length-for-hs256';
let server: HubServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const token = (sub: string, name: string) =>
  new SignJWT({ channels: ['room:*'], name })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET));

it("jwtAuthorizer's presenceInfo shows each member by the claims it picks", async () => {
  server = await startHubServer(
    createHub({
      presence: true,
      authorize: jwtAuthorizer({ secret: SECRET, presenceInfo: (claims) => ({ name: claims.name }) }),
    }),
  );
  const raw = await openRaw(`${server.url}/stream?channels=room:1&token=${await token('u1', 'Ada')}`);
  try {
    await vi.waitFor(async () =>
      expect(await server!.hub.presence('room:1')).toEqual({
        users: 1,
        connections: 1,
        members: [{ subject: 'u1', info: { name: 'Ada' }, connections: 1 }],
      }),
    );
  } finally {
    raw.close();
  }
  expect(() => jwtAuthorizer({ secret: SECRET, presenceInfo: 'name' as never })).toThrow(/presenceInfo/);
});
