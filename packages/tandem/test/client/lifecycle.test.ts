import { describe, expect, it } from 'vitest';
import { createLiveClient } from '../../src/client';
import type { LiveClientOptions } from '../../src/client/options';
import { decodeCursor } from '../../src/protocol';
import { fakeEnv, flush } from '../helpers/fake-env';
import { fakeTransport } from './fake-transport';

function inert(overrides: Partial<LiveClientOptions> = {}) {
  const env = fakeEnv();
  const { transport, streams } = fakeTransport(env.now);
  const polls: string[] = [];
  const client = createLiveClient({
    url: 'http://127.0.0.1:1/live',
    channels: ['a'],
    transport,
    storage: null,
    fetch: async (url) => {
      polls.push(url);
      return new Response(null, { status: 304 });
    },
    ...env,
    ...overrides,
  });
  return { env, client, streams, polls };
}

describe('client life cycle', () => {
  it('opens nothing and polls nothing until started', async () => {
    const t = inert();
    await t.env.advance(60_000);
    expect(t.streams).toHaveLength(0);
    expect(t.polls).toHaveLength(0);
    expect(t.client.getState().status).toBe('idle');
    t.client.start();
    await flush();
    expect(t.streams).toHaveLength(1);
    expect(t.client.getState().status).toBe('connecting');
    t.client.close();
  });

  it('stops without losing its place, and resumes from it when started again', async () => {
    const t = inert();
    t.client.start();
    await flush();
    t.streams[0]!.hello({ a: { epoch: 'e1', head: 4, recovered: false } });
    t.streams[0]!.event('a', 'x', 5);
    t.client.stop();
    expect(t.streams[0]!.closed).toBe(true);
    expect(t.client.getState()).toMatchObject({ status: 'idle', polling: false });
    const pollsBefore = t.polls.length;
    await t.env.advance(60_000);
    expect(t.streams).toHaveLength(1);
    expect(t.polls).toHaveLength(pollsBefore);

    t.client.start();
    await flush();
    expect(t.streams).toHaveLength(2);
    expect(decodeCursor(t.streams[1]!.request.cursor, ['a']).positions.get('a')).toEqual({
      epoch: 'e1',
      offset: 5,
    });
    t.client.close();
    t.client.start();
    await flush();
    expect(t.streams).toHaveLength(2);
    expect(t.client.getState().status).toBe('closed');
  });

  it('counts mounts: the first starts, the last unmount stops, an immediate remount keeps the stream', async () => {
    const t = inert();
    const unmountA = t.client.mount();
    const unmountB = t.client.mount();
    await flush();
    expect(t.streams).toHaveLength(1);
    unmountA();
    unmountA(); // twice counts once
    await flush();
    expect(t.streams[0]!.closed).toBe(false);
    // StrictMode: unmount and mount again in the same tick.
    unmountB();
    const unmountC = t.client.mount();
    await flush();
    expect(t.streams).toHaveLength(1);
    expect(t.streams[0]!.closed).toBe(false);
    unmountC();
    await flush();
    expect(t.streams[0]!.closed).toBe(true);
    expect(t.client.getState().status).toBe('idle');
    t.client.mount();
    await flush();
    expect(t.streams).toHaveLength(2);
    t.client.close();
  });

  it('tells the token function why it is called', async () => {
    const calls: Array<{ reason: string; previous: string | null }> = [];
    let n = 0;
    const t = inert({
      token: (ctx) => {
        calls.push(ctx);
        return `tok${++n}`;
      },
      poll: { enabled: false },
    });
    t.client.start();
    await flush();
    t.streams[0]!.control('tandem:bye', { reason: 'token_expired', reconnectMs: 0 });
    await t.env.advance(100);
    expect(t.streams).toHaveLength(2);
    expect(t.streams[1]!.request.token).toBe('tok2');
    expect(calls).toEqual([
      { reason: 'connect', previous: null },
      { reason: 'unauthorized', previous: 'tok1' },
    ]);
    t.client.close();
  });
});
