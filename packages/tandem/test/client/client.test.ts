import { describe, expect, it } from 'vitest';
import { createLiveClient } from '../../src/client';
import type { LiveClientOptions } from '../../src/client/options';
import { decodeCursor, TandemError } from '../../src/protocol';
import { type FakeEnv, fakeEnv, flush, seededRandom } from '../helpers/fake-env';
import { fakeTransport } from './fake-transport';

type Events = { 'order:created': number };

function setup(overrides: Partial<LiveClientOptions> = {}, env: FakeEnv = fakeEnv()) {
  const { transport, streams } = fakeTransport(env.now);
  const polls: string[] = [];
  const client = createLiveClient<Events>({
    url: 'http://127.0.0.1:1/live',
    channels: ['a'],
    transport,
    storage: null,
    poll: { enabled: false },
    fetch: async (url) => {
      polls.push(url);
      return new Response(JSON.stringify({ error: { code: 'internal', message: 'x' } }), { status: 500 });
    },
    ...env,
    ...overrides,
  });
  const received: number[] = [];
  client.on('order:created', (data) => received.push(data));
  client.start();
  return { env, client, streams, received, polls };
}

describe('LiveClient state machine', () => {
  it('connects, opens on hello, delivers events and builds its cursor from its own positions', async () => {
    const t = setup();
    const states: string[] = [];
    t.client.subscribeState((s) => {
      if (states.at(-1) !== s.status) states.push(s.status);
    });
    await flush();
    expect(t.streams).toHaveLength(1);
    expect(t.streams[0]!.request.cursor).toBeNull();
    t.streams[0]!.hello({ a: { epoch: 'e1', head: 10, recovered: false } });
    expect(t.client.getState().status).toBe('open');
    t.streams[0]!.event('a', 'order:created', 11);
    t.streams[0]!.event('a', 'order:created', 11);
    t.streams[0]!.event('a', 'order:created', 12);
    expect(t.received).toEqual([11, 12]);
    expect(t.client.getPositions()).toEqual({ a: { epoch: 'e1', offset: 12 } });
    t.streams[0]!.fail();
    expect(t.client.getState().status).toBe('reconnecting');
    await t.env.advance(2_000);
    expect(t.streams).toHaveLength(2);
    expect(decodeCursor(t.streams[1]!.request.cursor, ['a']).positions.get('a')).toEqual({
      epoch: 'e1',
      offset: 12,
    });
    expect(states).toEqual(['open', 'reconnecting']);
    t.client.close();
  });

  it('grows the backoff on repeated failures and resets it after a stable open', async () => {
    const t = setup({ random: () => 0.999_999 });
    await flush();
    const gaps: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = t.env.now();
      t.streams.at(-1)!.fail();
      await t.env.advance(3_000);
      gaps.push(t.streams.at(-1)!.openedAt - before);
    }
    expect(gaps).toEqual([99, 129, 168, 219]);
    expect(t.client.getState().attempt).toBe(4);
    t.streams.at(-1)!.hello({ a: { epoch: 'e1', head: 0, recovered: true } });
    await t.env.advance(2_000);
    expect(t.client.getState()).toMatchObject({ attempt: 0, lastError: null, status: 'open' });
    t.client.close();
  });

  it('stops on 403 with an error state, after one request and no poll', async () => {
    const t = setup({ poll: {} });
    await flush();
    t.streams[0]!.fail(new TandemError('forbidden', 'no', { status: 403 }));
    await t.env.advance(60_000);
    expect(t.streams).toHaveLength(1);
    expect(t.polls).toHaveLength(0);
    expect(t.client.getState().status).toBe('closed');
    expect(t.client.getState().lastError?.code).toBe('forbidden');
  });

  it('asks for a new token after a 401 and after a token_expired bye', async () => {
    let n = 0;
    const t = setup({ token: () => `tok${++n}` });
    await flush();
    expect(t.streams[0]!.request.token).toBe('tok1');
    t.streams[0]!.fail(new TandemError('unauthorized', 'expired', { status: 401 }));
    await t.env.advance(1_000);
    expect(t.streams[1]!.request.token).toBe('tok2');
    t.streams[1]!.hello({ a: { epoch: 'e1', head: 0, recovered: true } });
    t.streams[1]!.fail();
    await t.env.advance(2_000);
    expect(t.streams[2]!.request.token).toBe('tok2');
    t.streams[2]!.hello({ a: { epoch: 'e1', head: 0, recovered: true } });
    t.streams[2]!.control('tandem:bye', { reason: 'token_expired' });
    await t.env.advance(2_000);
    expect(t.streams[3]!.request.token).toBe('tok3');
    t.client.close();
  });

  it('honours Retry-After on 429/503', async () => {
    const t = setup({ random: () => 0 });
    await flush();
    t.streams[0]!.fail(new TandemError('too_many_connections', 'busy', { status: 429, retryAfterMs: 5_000 }));
    await t.env.advance(4_999);
    expect(t.streams).toHaveLength(1);
    await t.env.advance(1);
    expect(t.streams).toHaveLength(2);
    t.client.close();
  });

  it('retries at once when the network comes back, instead of waiting out the backoff', async () => {
    const t = setup({ random: () => 0.999_999 });
    await flush();
    for (let i = 0; i < 12; i++) {
      t.streams.at(-1)!.fail();
      await t.env.advance(2_000);
    }
    const count = t.streams.length;
    t.env.online.set(false);
    t.streams.at(-1)!.fail();
    await t.env.advance(100);
    expect(t.streams).toHaveLength(count);
    t.env.online.set(true);
    await t.env.advance(0);
    expect(t.streams).toHaveLength(count + 1);
    t.client.close();
  });

  it('reconnects at once when the watchdog declares the stream dead', async () => {
    const t = setup();
    await flush();
    t.streams[0]!.hello({ a: { epoch: 'e1', head: 0, recovered: true } });
    const last = t.env.now();
    await t.env.advance(6_000);
    expect(t.streams).toHaveLength(2);
    expect(t.streams[0]!.closed).toBe(true);
    expect(t.streams[1]!.openedAt - last).toBe(6_000);
    expect(t.client.getState().lastError?.code).toBe('timeout');
    t.client.close();
  });

  it('reports a resync once and continues from the position the hello gave', async () => {
    const resyncs: Array<[string[], string]> = [];
    const v = setup({});
    v.client.onResync((channels, reason) => resyncs.push([channels, reason]));
    await flush();
    v.streams[0]!.hello({ a: { epoch: 'e1', head: 3, recovered: false } });
    v.streams[0]!.event('a', 'order:created', 4);
    v.streams[0]!.fail();
    await v.env.advance(2_000);
    v.streams[1]!.hello({ a: { epoch: 'e1', head: 90, recovered: false } });
    v.streams[1]!.control('tandem:resync', { channels: ['a'], reason: 'retention' });
    v.streams[1]!.event('a', 'order:created', 91);
    expect(resyncs).toEqual([[['a'], 'retention']]);
    expect(v.received).toEqual([4, 91]);
    v.client.close();
  });

  it('spreads 1 000 clients cut at the same moment: no 100 ms bucket holds over 20% of first attempts', async () => {
    const env = fakeEnv(0, seededRandom(42));
    const { transport, streams } = fakeTransport(env.now);
    const clients = Array.from({ length: 1000 }, () =>
      createLiveClient({
        url: 'http://127.0.0.1:1/live',
        channels: ['a'],
        transport,
        storage: null,
        poll: { enabled: false },
        ...env,
      }),
    );
    for (const client of clients) client.start();
    await flush();
    expect(streams).toHaveLength(1000);
    for (const s of streams) s.hello({ a: { epoch: 'e1', head: 0, recovered: true } });
    await env.advance(5_000);
    const cutAt = env.now();
    for (const s of streams.slice(0, 1000)) s.fail();
    await env.advance(3_000);
    const firsts = streams.slice(1000).map((s) => s.openedAt - cutAt);
    expect(firsts).toHaveLength(1000);
    const buckets = new Map<number, number>();
    for (const t of firsts) buckets.set(Math.floor(t / 100), (buckets.get(Math.floor(t / 100)) ?? 0) + 1);
    const largest = Math.max(...buckets.values());
    expect(largest / 1000).toBeLessThanOrEqual(0.2);
    expect(Math.max(...firsts)).toBeLessThan(2000);
    for (const c of clients) c.close();
  });
});
