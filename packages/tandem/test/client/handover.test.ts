import { describe, expect, it } from 'vitest';
import { createLiveClient } from '../../src/client';
import type { LiveClientOptions } from '../../src/client/options';
import type { TokenContext } from '../../src/client/token';
import { decodeCursor, TandemError } from '../../src/protocol';
import { type FakeEnv, fakeEnv, flush } from '../helpers/fake-env';
import { fakeTransport } from './fake-transport';

/**
 * Moving between streams without a gap, a duplicate or a change of status: rotation, token
 * refresh (make before break), the page's life cycle and the network's, on a fake clock.
 */

type Events = { tick: number };

function setup(overrides: Partial<LiveClientOptions> = {}, env: FakeEnv = fakeEnv()) {
  const { transport, streams } = fakeTransport(env.now);
  const client = createLiveClient<Events>({
    url: 'http://127.0.0.1:1/live',
    channels: ['a'],
    transport,
    storage: null,
    poll: { enabled: false },
    ...env,
    ...overrides,
  });
  const received: number[] = [];
  const statuses: string[] = [];
  client.on('tick', (data) => received.push(data));
  client.subscribeState((s) => {
    if (statuses.at(-1) !== s.status) statuses.push(s.status);
  });
  client.start();
  return { env, client, streams, received, statuses };
}

const offsetOf = (cursor: string | null) => decodeCursor(cursor, ['a']).positions.get('a')?.offset;

describe('stream rotation', () => {
  it('comes straight back after a rotate bye, from its cursor, without leaving open', async () => {
    const t = setup();
    await flush();
    t.streams[0]!.hello({ a: { epoch: 'e1', head: 0, recovered: false } });
    for (let i = 1; i <= 3; i++) t.streams[0]!.event('a', 'tick', i);
    t.streams[0]!.control('tandem:bye', { reason: 'rotate', reconnectMs: 0 });
    await t.env.advance(0);
    expect(t.streams).toHaveLength(2);
    expect(t.streams[0]!.closed).toBe(true);
    expect(offsetOf(t.streams[1]!.request.cursor)).toBe(3);
    expect(t.client.getState().status).toBe('open');
    t.streams[1]!.hello({ a: { epoch: 'e1', head: 5, recovered: true } });
    for (let i = 4; i <= 5; i++) t.streams[1]!.event('a', 'tick', i);
    expect(t.received).toEqual([1, 2, 3, 4, 5]);
    expect(t.statuses).toEqual(['connecting', 'open']);
    expect(t.client.getState().attempt).toBe(0);
    t.client.close();
  });

  it('reports the failure when the stream after a rotation cannot open', async () => {
    const t = setup();
    await flush();
    t.streams[0]!.hello({ a: { epoch: 'e1', head: 0, recovered: false } });
    t.streams[0]!.control('tandem:bye', { reason: 'rotate', reconnectMs: 0 });
    await t.env.advance(0);
    t.streams[1]!.fail(new TandemError('shutting_down', 'gone', { status: 503 }));
    expect(t.statuses).toEqual(['connecting', 'open', 'reconnecting']);
    t.client.close();
  });
});

describe('token refresh, make before break', () => {
  it('opens a stream with a new token before the old one expires, then closes the old one', async () => {
    const asked: TokenContext[] = [];
    let n = 0;
    const t = setup({
      token: (ctx) => {
        asked.push(ctx);
        return `token-${++n}`;
      },
    });
    await flush();
    expect(t.streams[0]!.request.token).toBe('token-1');
    t.streams[0]!.control('tandem:hello', {
      connectionId: 'c1',
      heartbeatMs: 2000,
      serverTime: t.env.now(),
      channels: { a: { epoch: 'e1', head: 0, recovered: false } },
      expiresInMs: 6_000,
    });
    t.streams[0]!.event('a', 'tick', 1);
    // Half its life before expiry: 3 s in.
    await t.env.advance(2_900);
    expect(t.streams).toHaveLength(1);
    t.streams[0]!.event('a', 'tick', 2);
    await t.env.advance(200);
    expect(asked).toEqual([
      { reason: 'connect', previous: null },
      { reason: 'expiry', previous: 'token-1' },
    ]);
    expect(t.streams).toHaveLength(2);
    const [old, fresh] = t.streams as [(typeof t.streams)[0], (typeof t.streams)[0]];
    expect(fresh.request.token).toBe('token-2');
    expect(offsetOf(fresh.request.cursor)).toBe(2);
    // Both streams are open for a while: the old one goes on delivering.
    expect(old.closed).toBe(false);
    old.event('a', 'tick', 3);
    fresh.control('tandem:hello', {
      connectionId: 'c2',
      heartbeatMs: 2000,
      serverTime: t.env.now(),
      channels: { a: { epoch: 'e1', head: 3, recovered: true } },
      expiresInMs: 6_000,
    });
    expect(old.closed).toBe(true);
    // The new stream replays what the old one already delivered: dropped, not repeated.
    fresh.event('a', 'tick', 3);
    fresh.event('a', 'tick', 4);
    old.event('a', 'tick', 5); // closed: never arrives
    fresh.event('a', 'tick', 5);
    expect(t.received).toEqual([1, 2, 3, 4, 5]);
    expect(t.statuses).toEqual(['connecting', 'open']);
    // And again before the second token expires.
    await t.env.advance(3_100);
    expect(t.streams).toHaveLength(3);
    expect(asked.at(-1)).toEqual({ reason: 'expiry', previous: 'token-2' });
    t.client.close();
  });

  it('keeps the old stream when the new one is refused; at expiry a refused token takes the 401 path', async () => {
    const asked: string[] = [];
    const t = setup({
      token: ({ reason }) => {
        asked.push(reason);
        return `token-${asked.length}`;
      },
    });
    await flush();
    t.streams[0]!.control('tandem:hello', {
      connectionId: 'c1',
      heartbeatMs: 2000,
      serverTime: t.env.now(),
      channels: { a: { epoch: 'e1', head: 0, recovered: false } },
      expiresInMs: 3_000,
    });
    await t.env.advance(1_600);
    expect(t.streams).toHaveLength(2);
    t.streams[1]!.fail(new TandemError('unauthorized', 'revoked', { status: 401 }));
    expect(t.streams[0]!.closed).toBe(false);
    expect(t.client.getState().status).toBe('open');
    t.streams[0]!.event('a', 'tick', 1);
    expect(t.received).toEqual([1]);
    // The server ends the old stream at expiry: a new token, and straight back.
    t.streams[0]!.control('tandem:bye', { reason: 'token_expired' });
    await flush();
    expect(asked).toEqual(['connect', 'expiry', 'unauthorized']);
    expect(t.streams).toHaveLength(3);
    expect(t.client.getState().status).toBe('open');
    // That token is refused too: the documented 401 path, visible to the app.
    t.streams[2]!.fail(new TandemError('unauthorized', 'revoked', { status: 401 }));
    expect(t.client.getState().status).toBe('reconnecting');
    expect(t.client.getState().lastError?.code).toBe('unauthorized');
    await t.env.advance(2_000);
    expect(asked).toEqual(['connect', 'expiry', 'unauthorized', 'unauthorized']);
    t.client.close();
  });

  it('goes on with the new stream when the old one ends before the new one said hello', async () => {
    let n = 0;
    const t = setup({ token: () => `token-${++n}` });
    await flush();
    t.streams[0]!.control('tandem:hello', {
      connectionId: 'c1',
      heartbeatMs: 2000,
      serverTime: t.env.now(),
      channels: { a: { epoch: 'e1', head: 0, recovered: false } },
      expiresInMs: 3_000,
    });
    await t.env.advance(1_600);
    expect(t.streams).toHaveLength(2);
    t.streams[0]!.control('tandem:bye', { reason: 'token_expired' });
    expect(t.streams).toHaveLength(2);
    t.streams[1]!.hello({ a: { epoch: 'e1', head: 0, recovered: true } });
    t.streams[1]!.event('a', 'tick', 1);
    expect(t.received).toEqual([1]);
    expect(t.statuses).toEqual(['connecting', 'open']);
    t.client.close();
  });
});

describe('page and network life cycle', () => {
  it('holds no stream while the page is in the back/forward cache, and resumes from its cursor', async () => {
    const t = setup();
    await flush();
    t.streams[0]!.hello({ a: { epoch: 'e1', head: 0, recovered: false } });
    t.streams[0]!.event('a', 'tick', 1);
    t.env.frozen.set(true);
    expect(t.streams[0]!.closed).toBe(true);
    await t.env.advance(60_000);
    expect(t.streams).toHaveLength(1);
    t.env.frozen.set(false);
    await flush();
    expect(t.streams).toHaveLength(2);
    expect(offsetOf(t.streams[1]!.request.cursor)).toBe(1);
    t.streams[1]!.hello({ a: { epoch: 'e1', head: 3, recovered: true } });
    for (let i = 2; i <= 3; i++) t.streams[1]!.event('a', 'tick', i);
    expect(t.received).toEqual([1, 2, 3]);
    expect(t.client.getState().status).toBe('open');
    t.client.close();
  });

  it('keeps the stream of a hidden tab, unless told to pause it', async () => {
    const kept = setup();
    await flush();
    kept.streams[0]!.hello({ a: { epoch: 'e1', head: 0, recovered: false } });
    kept.env.hidden.set(true);
    expect(kept.streams[0]!.closed).toBe(false);
    kept.client.close();

    const paused = setup({ pauseWhenHidden: true });
    await flush();
    paused.streams[0]!.hello({ a: { epoch: 'e1', head: 0, recovered: false } });
    paused.env.hidden.set(true);
    expect(paused.streams[0]!.closed).toBe(true);
    paused.env.hidden.set(false);
    await flush();
    expect(paused.streams).toHaveLength(2);
    paused.client.close();
  });

  it('makes no attempt while offline and reconnects as soon as the network is back', async () => {
    const t = setup();
    await flush();
    t.streams[0]!.hello({ a: { epoch: 'e1', head: 0, recovered: false } });
    // Offline: the stream is given up at once (it cannot last), and nothing is tried.
    t.env.online.set(false);
    expect(t.streams[0]!.closed).toBe(true);
    expect(t.client.getState().status).toBe('reconnecting');
    await t.env.advance(120_000);
    expect(t.streams).toHaveLength(1);
    expect(t.client.getState().status).toBe('reconnecting');
    t.env.online.set(true);
    await flush();
    expect(t.streams).toHaveLength(2);
    t.client.close();
  });
});
