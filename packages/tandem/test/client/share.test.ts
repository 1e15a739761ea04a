import fc from 'fast-check';
import { SignJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { groupName as groupNameWith, tokenIdentity as identityWith } from '../../src/client/share/identity';
import { parseMessage as parseWith, SHARE_PROTOCOL } from '../../src/client/share/messages';
import { SHARE_KIT } from '../../src/client/share-kit';
import { createHub, memoryBroker } from '../../src/server';
import { startHubServer } from '../helpers/hub-server';
import { recordedClient } from './harness';

/** Sharing one stream between tabs: what can be checked without a browser. */

const parseMessage = (data: unknown) => parseWith(data, SHARE_KIT);
const tokenIdentity = (token: string | null) => identityWith(token, SHARE_KIT);
const groupName = (url: string, shareKey: string | undefined, token: string | null) =>
  groupNameWith(url, shareKey, token, SHARE_KIT);

const key = new TextEncoder().encode('a-test-secret-of-enough-length-for-hs256');
const jwt = (claims: Record<string, unknown>, exp = '1h') =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(exp).sign(key);

describe('group identity', () => {
  it('is the same for two tokens of one subject with the same grants, whatever their times', async () => {
    const a = await jwt({ sub: 'alice', channels: ['a/**'] }, '1h');
    const b = await new SignJWT({ channels: ['a/**'], sub: 'alice', jti: 'other' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(12345)
      .setNotBefore(12345)
      .setExpirationTime('2h')
      .sign(key);
    expect(a).not.toBe(b);
    expect(tokenIdentity(a)).not.toBeNull();
    expect(tokenIdentity(a)).toBe(tokenIdentity(b));
  });

  it('differs between subjects, and between grants of one subject', async () => {
    const alice = tokenIdentity(await jwt({ sub: 'alice', channels: ['a/**'] }));
    const bob = tokenIdentity(await jwt({ sub: 'bob', channels: ['a/**'] }));
    const wider = tokenIdentity(await jwt({ sub: 'alice', channels: ['a/**', 'b/**'] }));
    expect(new Set([alice, bob, wider]).size).toBe(3);
  });

  it('is unknown for opaque tokens, cookies and tokens with nothing but times', async () => {
    expect(tokenIdentity(null)).toBeNull();
    expect(tokenIdentity('an-opaque-api-key')).toBeNull();
    expect(tokenIdentity('a.b.c')).toBeNull();
    expect(tokenIdentity(await jwt({}))).toBeNull();
    expect(groupName('http://h/live', undefined, 'opaque')).toBeNull();
  });

  it('groups by hub URL too, and an explicit key wins over the token', async () => {
    const token = await jwt({ sub: 'alice' });
    expect(groupName('http://h/live', undefined, token)).not.toBe(
      groupName('http://h/other', undefined, token),
    );
    expect(groupName('http://h/live', 'team-1', token)).toBe(groupName('http://h/live', 'team-1', null));
    expect(groupName('http://h/live', 'team-1', null)).not.toBe(groupName('http://h/live', 'team-2', null));
  });
});

describe('messages between tabs', () => {
  const event = {
    v: SHARE_PROTOCOL,
    t: 'event',
    from: 'tab1',
    term: 3,
    event: { channel: 'c', type: 'tick', epoch: '1a', offset: 4, ts: 1, data: { i: 1 }, source: 'stream' },
  };

  it('accepts the messages of this protocol', () => {
    expect(parseMessage(event)).toMatchObject({ t: 'event', from: 'tab1' });
    expect(
      parseMessage({
        v: SHARE_PROTOCOL,
        t: 'beat',
        from: 'tab1',
        term: 3,
        state: { status: 'open', polling: false, attempt: 0, error: null },
        positions: { c: { epoch: '1a', offset: 4 } },
        members: ['tab1', 'tab2'],
        channels: ['c'],
      }),
    ).toMatchObject({ t: 'beat' });
    expect(
      parseMessage({
        v: SHARE_PROTOCOL,
        t: 'join',
        from: 'tab2',
        channels: ['c'],
        positions: {},
        types: [],
        hidden: false,
      }),
    ).toMatchObject({ t: 'join' });
  });

  it('ignores other versions, malformed fields and foreign messages', () => {
    for (const bad of [
      null,
      'text',
      42,
      [],
      { ...event, v: 2 },
      { ...event, from: '' },
      { ...event, t: 'unknown' },
      { ...event, event: { ...event.event, offset: 0 } },
      { ...event, event: { ...event.event, offset: 1.5 } },
      { ...event, event: { ...event.event, epoch: 'not an epoch' } },
      { ...event, event: { ...event.event, source: 'carrier pigeon' } },
      { ...event, term: -1 },
      {
        v: SHARE_PROTOCOL,
        t: 'beat',
        from: 'x',
        term: 1,
        state: { status: 'exploded' },
        positions: {},
        members: [],
      },
      { v: SHARE_PROTOCOL, t: 'join', from: 'x', channels: 'c', positions: {}, types: [], hidden: false },
      { v: SHARE_PROTOCOL, t: 'resync', from: 'x', term: 1, channels: ['c'], reason: 'because' },
    ]) {
      expect(parseMessage(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it('never throws, whatever arrives', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        parseMessage(value);
        parseMessage({ v: SHARE_PROTOCOL, from: 'x', ...(typeof value === 'object' && value ? value : {}) });
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('without Web Locks (Node)', () => {
  it('each client runs its own stream, as with sharing off', async () => {
    expect((globalThis as { navigator?: { locks?: unknown } }).navigator?.locks).toBeUndefined();
    const server = await startHubServer(createHub({ broker: memoryBroker() }));
    try {
      const options = { url: `${server.url}`, channels: ['node:a'], shareKey: 'same-user' };
      const a = recordedClient(options);
      const b = recordedClient(options);
      a.client.start();
      b.client.start();
      await vi.waitFor(() => {
        expect([a.client.getState().status, b.client.getState().status]).toEqual(['open', 'open']);
      });
      expect(server.hub.stats().connections).toBe(2);
      expect(a.client.getState().share).toEqual({ role: 'alone', members: 1, id: '', leader: null });
      await server.hub.publish('node:a', 'tick', { i: 1 });
      await vi.waitFor(() => expect([a.count(), b.count()]).toEqual([1, 1]));
      a.client.close();
      b.client.close();
    } finally {
      await server.close();
    }
  });
});
