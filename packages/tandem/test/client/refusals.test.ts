import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createLiveClient, type LiveClientOptions } from '../../src/client';
import { REFUSALS_BEFORE_PAUSE, REFUSED_PAUSE_MS } from '../../src/client/token';
import { jwtAuthorizer } from '../../src/jwt';
import { TandemError } from '../../src/protocol';
import { fakeEnv, seededRandom } from '../helpers/fake-env';
import { until } from '../helpers/wait';
import { fakeTransport } from './fake-transport';
import { type Rig, recordedClient, startRig } from './harness';

/**
 * A client in fake time whose every request is refused with `401`, as a hub refuses a user who
 * logged out: each stream it opens is failed by the test, each poll answered `401`.
 */
function refusedClient(token?: LiveClientOptions['token']) {
  const env = fakeEnv(1_000_000, seededRandom(7));
  const { transport, streams } = fakeTransport(env.now);
  const polls: number[] = [];
  const client = createLiveClient({
    url: 'http://127.0.0.1:1/live',
    channels: ['a'],
    transport,
    storage: null,
    ...(token === undefined ? {} : { token }),
    fetch: async () => {
      polls.push(env.now());
      return Response.json({ error: { code: 'unauthorized', message: 'not logged in' } }, { status: 401 });
    },
    ...env,
  });
  /** Refuses every stream as it opens, for `ms` of fake time. */
  const refuseFor = async (ms: number) => {
    const end = env.now() + ms;
    while (env.now() < end) {
      for (const stream of streams) {
        if (!stream.closed) stream.fail(new TandemError('unauthorized', 'not logged in', { status: 401 }));
      }
      await env.advance(50);
    }
  };
  return { env, client, streams, polls, refuseFor };
}

/** The gaps between consecutive times. */
const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

describe('refused again and again (logged out, no token)', () => {
  it('slows to one attempt per 30 s after a few refusals, stream and poll alike, and says so', async () => {
    const t = refusedClient();
    t.client.start();
    await t.refuseFor(5 * 60_000);
    const streams = t.streams.map((s) => s.openedAt);
    const attempts = [...streams, ...t.polls].sort((a, b) => a - b);
    // Twice a second would be about 600 requests in these 5 minutes.
    expect(attempts.length).toBeLessThanOrEqual(REFUSALS_BEFORE_PAUSE + 2 + (5 * 60_000) / REFUSED_PAUSE_MS);
    // Once paused, no two requests of either kind come within 30 s of each other.
    const paused = attempts.slice(REFUSALS_BEFORE_PAUSE + 1);
    expect(paused.length).toBeGreaterThanOrEqual(8);
    for (const gap of gaps(paused)) expect(gap).toBeGreaterThanOrEqual(REFUSED_PAUSE_MS);
    const { lastError, status } = t.client.getState();
    expect(status).toBe('reconnecting');
    expect(lastError?.code).toBe('unauthorized');
    expect(lastError?.message).toMatch(
      /^refused \d+ times in a row, retrying every 30 s \(last: not logged in\)$/,
    );
    t.client.close();
  });

  it('comes back to its quick retries once a token is accepted', async () => {
    const t = refusedClient();
    t.client.start();
    await t.refuseFor(2 * 60_000);
    // The user logs in again: the next stream is accepted.
    const before = t.streams.length;
    for (let waited = 0; t.streams.length === before && waited <= REFUSED_PAUSE_MS + 5_000; waited += 100) {
      await t.env.advance(100);
    }
    expect(t.streams.length).toBe(before + 1);
    t.streams.at(-1)!.hello({ a: { epoch: 'e1', head: 0, recovered: false } });
    await t.env.advance(3_000);
    expect(t.client.getState()).toMatchObject({ status: 'open', lastError: null });
    // One refusal now (a revoked token, say) is retried within the backoff, not after 30 s.
    t.streams.at(-1)!.fail(new TandemError('unauthorized', 'revoked', { status: 401 }));
    await t.env.advance(2_500);
    expect(t.streams.length).toBe(before + 2);
    t.client.close();
  });

  it('asks a failing token function at most once per 30 s once paused, and reports its error', async () => {
    const calls: number[] = [];
    const failure = new Error('the session has ended');
    const t = refusedClient(() => {
      calls.push(Date.now());
      throw failure;
    });
    const errors: Array<TandemError | null> = [];
    t.client.subscribeState((state) => errors.push(state.lastError));
    t.client.start();
    await t.refuseFor(5 * 60_000);
    // No stream was opened without a token, and the function was not asked twice a second.
    expect(t.streams).toHaveLength(0);
    // It is still asked, once a pause: the user may log in again.
    expect(calls.length).toBeGreaterThanOrEqual(8);
    expect(calls.length).toBeLessThanOrEqual(REFUSALS_BEFORE_PAUSE + 1 + (5 * 60_000) / REFUSED_PAUSE_MS);
    const first = errors.find((e) => e !== null)!;
    expect(first.message).toBe('the token provider failed: the session has ended');
    expect(first.cause).toBe(failure);
    const last = t.client.getState().lastError!;
    expect(last.message).toMatch(
      /^refused \d+ times in a row, retrying every 30 s \(last: the token provider failed: the session has ended\)$/,
    );
    expect((last.cause as TandemError).cause).toBe(failure);
    t.client.close();
  });
});

const SECRET = 'a-test-secret-of-enough-length-for-hs256';
const mint = (channels: string[]) =>
  new SignJWT({ channels })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('user-1')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe('against a hub', () => {
  it('reports a bye from hub.disconnect as server_closed, not network, and comes back', async () => {
    rig = await startRig();
    const rec = recordedClient({ url: rig.url, channels: ['bye:a'] });
    expect(await until(() => rec.client.getState().status === 'open', 5_000)).toBe(true);
    expect(rig.server.hub.disconnect({})).toBe(1);
    expect(await until(() => rec.errors.length > 0, 5_000)).toBe(true);
    expect(rec.errors[0]).toBe('server_closed');
    expect(rec.client.getState().lastError?.message).toBe('the server ended the stream (server_closed)');
    // hub.disconnect alone does not log anyone out: the client is back with the same token.
    expect(await until(() => rec.client.getState().status === 'open', 5_000)).toBe(true);
    rec.client.close();
  });

  it('keeps a failing token function’s error as the cause and in the message', async () => {
    rig = await startRig({ authorize: jwtAuthorizer({ secret: SECRET }) });
    let calls = 0;
    const rec = recordedClient({
      url: rig.url,
      channels: ['auth:a'],
      // The first call fails, as a token endpoint that is briefly down; the next one serves.
      token: () => {
        if (calls++ === 0) throw new Error('token endpoint answered 503');
        return mint(['auth:*']);
      },
    });
    const errors: TandemError[] = [];
    rec.client.subscribeState(({ lastError }) => {
      if (lastError && !errors.includes(lastError)) errors.push(lastError);
    });
    expect(await until(() => rec.client.getState().status === 'open', 10_000)).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('unauthorized');
    expect(errors[0]!.message).toBe('the token provider failed: token endpoint answered 503');
    expect((errors[0]!.cause as Error).message).toBe('token endpoint answered 503');
    rec.client.close();
  });
});
