import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jwtAuthorizer } from '../../src/jwt';
import type { ByePayload, HelloPayload, ResyncPayload } from '../../src/protocol';
import { createHub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { getJson, openRaw, type RawStream } from './sse-reader';

const SECRET = 'test-secret-with-enough-entropy-0123456789';

function token(claims: Record<string, unknown>, options: { secret?: string; expiresAt?: number } = {}) {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(String(claims.sub ?? 'user'));
  jwt.setExpirationTime(Math.floor((options.expiresAt ?? Date.now() + 3_600_000) / 1000));
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET));
}

let server: HubServer;
let bigHeaders: HubServer;
let bystander: RawStream;
let tenantA: string;

beforeAll(async () => {
  const options = {
    authorize: jwtAuthorizer({ secret: SECRET }),
    heartbeatMs: 100,
    schemas: { 'order:created': z.object({ id: z.number() }) },
  };
  server = await startHubServer(createHub(options));
  // The same hub behind a server that accepts large headers, to show what the hub itself does.
  bigHeaders = await startHubServer(server.hub, { maxHeaderSize: 256 * 1024 });
  tenantA = await token({ sub: 'alice', channels: ['tenant:a/*'] });
  // A well-behaved client that must keep receiving whatever the others send.
  bystander = await openRaw(`${server.url}/stream?channels=tenant:a/orders`, {
    authorization: `Bearer ${tenantA}`,
  });
  await bystander.next((e) => e.type === 'tandem:hello');
});

afterAll(async () => {
  bystander.close();
  await server.close();
  await bigHeaders.close();
});

async function expectError(path: string, headers: Record<string, string>, status: number, code: string) {
  const response = await getJson(`${server.url}${path}`, headers);
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(response.body).toMatchObject({ error: { code, message: expect.any(String) } });
  return response;
}

describe('bad input gets its documented status and JSON error, and the server keeps serving', () => {
  const stream = '/stream?channels=tenant:a/orders';

  it('missing token: 401 unauthorized', async () => {
    await expectError(stream, {}, 401, 'unauthorized');
    await expectError('/poll?channels=tenant:a/orders', {}, 401, 'unauthorized');
  });

  it('malformed token: 401 unauthorized', async () => {
    await expectError(stream, { authorization: 'Bearer not.a.jwt' }, 401, 'unauthorized');
  });

  it('wrongly signed token: 401 unauthorized', async () => {
    const forged = await token(
      { sub: 'mallory', channels: ['**'] },
      { secret: 'another-secret-another-secret-000' },
    );
    await expectError(stream, { authorization: `Bearer ${forged}` }, 401, 'unauthorized');
  });

  it('expired token: 401 token_expired', async () => {
    const expired = await token(
      { sub: 'alice', channels: ['tenant:a/*'] },
      { expiresAt: Date.now() - 60_000 },
    );
    await expectError(stream, { authorization: `Bearer ${expired}` }, 401, 'token_expired');
  });

  it('a tenant-A token asking for a tenant-B channel: 403 forbidden for the whole request', async () => {
    const response = await expectError(
      '/stream?channels=tenant:a/orders,tenant:b/orders',
      { authorization: `Bearer ${tenantA}` },
      403,
      'forbidden',
    );
    expect((response.body as { error: { message: string } }).error.message).toContain('tenant:b/orders');
    await expectError(
      '/poll?channels=tenant:b/orders',
      { authorization: `Bearer ${tenantA}` },
      403,
      'forbidden',
    );
  });

  it('accepts the token from a cookie or the token query parameter too', async () => {
    const viaCookie = await openRaw(`${server.url}${stream}`, { cookie: `other=1; tandem_token=${tenantA}` });
    expect(viaCookie.status).toBe(200);
    viaCookie.close();
    const viaQuery = await openRaw(`${server.url}${stream}&token=${tenantA}`);
    expect(viaQuery.status).toBe(200);
    viaQuery.close();
  });

  it('invalid channel names: 400 invalid_channel', async () => {
    const auth = { authorization: `Bearer ${tenantA}` };
    await expectError('/stream?channels=tenant:a/has%20space', auth, 400, 'invalid_channel');
    await expectError(`/stream?channels=${'x'.repeat(201)}`, auth, 400, 'invalid_channel');
    await expectError('/stream?channels=', auth, 400, 'bad_request');
  });

  it('1 000 channels in one request: 400 bad_request', async () => {
    const channels = Array.from({ length: 1000 }, (_, i) => `tenant:a/c${i}`).join(',');
    await expectError(
      `/stream?channels=${channels}`,
      { authorization: `Bearer ${tenantA}` },
      400,
      'bad_request',
    );
  });

  it('a 100 KB Last-Event-ID: the hub answers resync (cursor); node:http by default refuses it with 431', async () => {
    const huge = `t1~${'a'.repeat(100 * 1024)}`;
    const stream200 = await openRaw(`${bigHeaders.url}${stream}`, {
      authorization: `Bearer ${tenantA}`,
      'last-event-id': huge,
    });
    expect(stream200.status).toBe(200);
    const resync = await stream200.next((e) => e.type === 'tandem:resync');
    expect(JSON.parse(resync.data) as ResyncPayload).toEqual({
      channels: ['tenant:a/orders'],
      reason: 'cursor',
    });
    stream200.close();
    const refused = await fetch(`${server.url}${stream}`, {
      headers: { authorization: `Bearer ${tenantA}`, 'last-event-id': huge },
    });
    expect(refused.status).toBe(431);
  });

  it('bad poll parameters, unknown paths and methods', async () => {
    const auth = { authorization: `Bearer ${tenantA}` };
    await expectError('/poll?channels=tenant:a/orders&wait=soon', auth, 400, 'bad_request');
    await expectError('/nowhere', auth, 404, 'not_found');
    const post = await fetch(`${server.url}${stream}`, { method: 'POST', headers: auth });
    expect(post.status).toBe(405);
    expect(await post.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
  });

  it('a CRLF in an event type at publish: TandemError invalid_field', async () => {
    await expect(server.hub.publish('tenant:a/orders', 'evil\r\nevent: forged', {})).rejects.toMatchObject({
      name: 'TandemError',
      code: 'invalid_field',
    });
    await expect(server.hub.publish('tenant:a/orders', 'nul\0', {})).rejects.toMatchObject({
      code: 'invalid_field',
    });
    await expect(server.hub.publish('tenant:a/orders', 'tandem:hello', {})).rejects.toMatchObject({
      code: 'bad_request',
    });
    await expect(server.hub.publish('bad channel', 'x', {})).rejects.toMatchObject({
      code: 'invalid_channel',
    });
  });

  it('data that is not JSON-serialisable at publish: TandemError bad_request', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(server.hub.publish('tenant:a/orders', 'x', circular)).rejects.toMatchObject({
      code: 'bad_request',
    });
    await expect(server.hub.publish('tenant:a/orders', 'x', 10n)).rejects.toMatchObject({
      code: 'bad_request',
    });
    await expect(server.hub.publish('tenant:a/orders', 'x', undefined)).rejects.toMatchObject({
      code: 'bad_request',
    });
  });

  it('data failing its Standard Schema: TandemError validation_failed with the validator message', async () => {
    const rejected = server.hub.publish('tenant:a/orders', 'order:created', { id: 'seven' });
    await expect(rejected).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(rejected).rejects.toThrow(/id/);
    const ok = await server.hub.publish('tenant:a/orders', 'order:created', { id: 7 });
    expect(ok.data).toEqual({ id: 7 });
  });

  it('through all of that, the bystander kept receiving, and nothing it got was forged', async () => {
    const sent = await server.hub.publish('tenant:a/orders', 'after', { ok: true });
    await bystander.next((e) => e.type === 'after' && JSON.parse(e.data).offset === sent.offset);
    // Its heartbeat keeps beating too (on a quiet machine the cases above take less than one beat).
    await bystander.next((e) => e.type === 'tandem:ping');
    const types = new Set(bystander.events.map((e) => e.type));
    expect(types.has('forged')).toBe(false);
    expect([...types].sort()).toEqual(['after', 'order:created', 'tandem:hello', 'tandem:ping']);
    expect(bystander.appEvents().map((e) => e.offset)).toEqual([1, 2]);
  });
});

describe('token expiry', () => {
  it('ends the stream with tandem:bye token_expired, and a fresh token resumes without loss', async () => {
    const soon = await token({ sub: 'bob', channels: ['tenant:a/*'] }, { expiresAt: Date.now() + 1500 });
    const first = await openRaw(`${server.url}/stream?channels=tenant:a/stock`, {
      authorization: `Bearer ${soon}`,
    });
    const hello = JSON.parse((await first.next((e) => e.type === 'tandem:hello')).data) as HelloPayload;
    expect(hello.channels['tenant:a/stock']).toBeDefined();
    await server.hub.publish('tenant:a/stock', 'x', 1);
    const bye = await first.next((e) => e.type === 'tandem:bye', 5000);
    expect(JSON.parse(bye.data) as ByePayload).toMatchObject({ reason: 'token_expired' });
    await first.ended;
    await server.hub.publish('tenant:a/stock', 'x', 2);

    const fresh = await token({ sub: 'bob', channels: ['tenant:a/*'] });
    const second = await openRaw(`${server.url}/stream?channels=tenant:a/stock`, {
      authorization: `Bearer ${fresh}`,
      'last-event-id': first.lastEventId,
    });
    await second.next((e) => e.type === 'x');
    expect([...first.appEvents(), ...second.appEvents()].map((e) => e.data)).toEqual([1, 2]);
    second.close();
  });
});
