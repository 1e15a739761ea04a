import { EventSource } from 'eventsource';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventSourceConstructor, FetchLike } from '../../src/client';
import { jwtAuthorizer } from '../../src/jwt';
import { sleep, until } from '../helpers/wait';
import { type Rig, recordedClient, startRig, transportNamed } from './harness';

const SECRET = 'a-test-secret-of-enough-length-for-hs256';
const key = new TextEncoder().encode(SECRET);

function mint(channels: string[], expiresInSeconds: number): Promise<string> {
  return new SignJWT({ channels })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('user-1')
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
    .sign(key);
}

/** Counts every request a client makes: its polls and fetch streams, and EventSource connects. */
function counting() {
  const urls: string[] = [];
  const fetchLike: FetchLike = (url, init) => {
    urls.push(url);
    return fetch(url, init);
  };
  class CountingEventSource extends EventSource {
    constructor(url: string, init?: { withCredentials?: boolean }) {
      super(url, {
        ...init,
        fetch: (input, requestInit) => {
          urls.push(String(input));
          return fetch(input, requestInit);
        },
      });
    }
  }
  return { urls, fetch: fetchLike, EventSource: CountingEventSource as unknown as EventSourceConstructor };
}

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe.each(['fetch', 'eventsource'] as const)('authentication (%s)', (transport) => {
  it('moves to a new stream before a token expires mid-stream: no loss, no error', async () => {
    rig = await startRig({ authorize: jwtAuthorizer({ secret: SECRET }) });
    let issued = 0;
    const rec = recordedClient({
      url: rig.url,
      channels: ['auth:a'],
      transport: transportNamed(transport),
      eventTypes: ['tick'],
      // The first token lives 2 s, the next ones a minute.
      token: () => mint(['auth:*'], issued++ === 0 ? 2 : 60),
    });
    expect(await until(() => rec.client.getState().status === 'open', 5_000)).toBe(true);
    const total = 50;
    // The workload spans the token's expiry: 50 events, 100 ms apart, across the 2 s lifetime.
    for (let i = 0; i < total; i++) {
      await rig.server.hub.publish('auth:a', 'tick', { i });
      await sleep(100);
    }
    expect(await until(() => rec.count() === total, 10_000)).toBe(true);
    expect(rec.errors).toEqual([]);
    expect(issued).toBeGreaterThanOrEqual(2);
    expect(rec.events.map((e) => (e.data as { i: number }).i)).toEqual(
      Array.from({ length: total }, (_, i) => i),
    );
    expect(rec.violations).toEqual([]);
    expect(rec.resyncs).toEqual([]);
    expect(rec.client.getState().status).toBe('open');
    rec.client.close();
  }, 30_000);

  it('a token that cannot be renewed ends in token_expired, then a fresh one resumes without loss', async () => {
    rig = await startRig({ authorize: jwtAuthorizer({ secret: SECRET }), heartbeatMs: 200 });
    const reasons: string[] = [];
    const rec = recordedClient({
      url: rig.url,
      channels: ['auth:c'],
      transport: transportNamed(transport),
      eventTypes: ['tick'],
      poll: { enabled: false },
      // Asked to renew before expiry, and once more after it, the provider hands back the
      // same token: the server refuses it (401 token_expired); the next call gives a fresh one.
      token: ({ reason, previous }) => {
        reasons.push(reason);
        return reasons.length <= 3 && previous ? previous : mint(['auth:*'], reasons.length === 1 ? 2 : 60);
      },
    });
    expect(await until(() => rec.client.getState().status === 'open', 5_000)).toBe(true);
    const total = 40;
    for (let i = 0; i < total; i++) {
      await rig.server.hub.publish('auth:c', 'tick', { i });
      await sleep(100);
    }
    expect(await until(() => rec.count() === total, 10_000)).toBe(true);
    // The refusal reached the app (a browser-like EventSource cannot tell expired from invalid).
    expect(rec.errors).toContain(transport === 'fetch' ? 'token_expired' : 'unauthorized');
    expect(reasons).toEqual(['connect', 'expiry', 'unauthorized', 'unauthorized']);
    expect(rec.events.map((e) => (e.data as { i: number }).i)).toEqual(
      Array.from({ length: total }, (_, i) => i),
    );
    expect(rec.violations).toEqual([]);
    rec.client.close();
  }, 30_000);

  it('stops after one request on 403, in an error state', async () => {
    rig = await startRig({ authorize: jwtAuthorizer({ secret: SECRET }) });
    const count = counting();
    const token = await mint(['allowed:*'], 60);
    const rec = recordedClient({
      url: rig.url,
      channels: ['secret:x'],
      transport: transportNamed(transport, count.EventSource),
      token,
      fetch: count.fetch,
    });
    expect(await until(() => rec.client.getState().status === 'closed', 5_000)).toBe(true);
    // Past the first poll's time and a few backoff windows: nothing more was sent. An absence,
    // which only waiting can show.
    await sleep(4_000);
    expect(count.urls).toHaveLength(1);
    expect(rec.client.getState().lastError?.code).toBe('forbidden');
    expect(rec.client.getState().status).toBe('closed');
  }, 15_000);

  it('recovers from a 401 by asking for a fresh token', async () => {
    rig = await startRig({ authorize: jwtAuthorizer({ secret: SECRET }) });
    const tokens: string[] = [];
    const rec = recordedClient({
      url: rig.url,
      channels: ['auth:b'],
      transport: transportNamed(transport),
      eventTypes: ['tick'],
      token: async () => {
        const token = tokens.length === 0 ? 'not-a-valid-token' : await mint(['auth:*'], 60);
        tokens.push(token);
        return token;
      },
    });
    expect(await until(() => rec.client.getState().status === 'open', 5_000)).toBe(true);
    expect(tokens).toHaveLength(2);
    expect(rec.errors[0]).toBe('unauthorized');
    await rig.server.hub.publish('auth:b', 'tick', { i: 0 });
    expect(await until(() => rec.count() === 1, 5_000)).toBe(true);
    rec.client.close();
  }, 15_000);
});
