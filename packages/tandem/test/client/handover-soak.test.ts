import { SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import type { LiveClientOptions } from '../../src/client';
import { jwtAuthorizer } from '../../src/jwt';
import { type CloseReason, createHub, type HubOptions, memoryBroker } from '../../src/server';
import { startHubServer } from '../helpers/hub-server';
import { NGINX_BIN, startNginx } from '../helpers/nginx';
import { sleep, until } from '../helpers/wait';
import { type Recording, recordedClient } from './harness';

/**
 * The platform's limits, for a minute at 50 events/s with 20 clients each: streams rotated
 * every 5 s (directly, and through nginx), and tokens that live 5 s. The three run at once.
 * The poller is off, so nothing can paper over a stream that loses an event.
 */

const DURATION_MS = Number(process.env.TANDEM_SOAK_MS) || 60_000;
const RATE = 50;
const CLIENTS = 20;
const SECRET = 'a-test-secret-of-enough-length-for-hs256';
const key = new TextEncoder().encode(SECRET);

/** A token for `soak:*` that expires in 5 s (JWT `exp` has whole seconds: 4–5 s left). */
const mint = () =>
  new SignJWT({ channels: ['soak:*'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('soak')
    .setExpirationTime(Math.floor(Date.now() / 1000) + 5)
    .sign(key);

interface Watched extends Recording {
  /** Statuses the app saw after the first `open`. */
  after: string[];
}

interface Outcome {
  published: number;
  clients: Watched[];
  closed: Map<string, number>;
  refused: Map<string, number>;
  tokens: number;
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
});

async function soak(
  name: string,
  options: HubOptions,
  client: Partial<LiveClientOptions>,
  via: 'direct' | 'nginx',
): Promise<Outcome> {
  const closed = new Map<string, number>();
  const refused = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const broker = memoryBroker();
  const hub = createHub({
    broker,
    ...options,
    metrics: {
      connectionClosed: (reason: CloseReason) => bump(closed, reason),
      refused: (code) => bump(refused, code),
    },
  });
  const server = await startHubServer(hub);
  const proxy = via === 'nginx' ? await startNginx(Number(new URL(server.url).port)) : null;
  cleanups.push(async () => {
    await proxy?.close();
    await server.close();
    await broker.close();
  });
  const base = `${proxy?.url ?? server.url}/live`;
  const channel = `soak:${name}`;
  const clients: Watched[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const rec = recordedClient({ url: base, channels: [channel], poll: { enabled: false }, ...client });
    const watched: Watched = Object.assign(rec, { after: [] as string[] });
    let last = rec.client.getState().status;
    let lastError: unknown = null;
    rec.client.subscribeState((state) => {
      if (state.lastError && state.lastError !== lastError) {
        console.log(
          `${name} client ${i}: ${state.status} after ${state.lastError.code}: ${state.lastError.message}`,
        );
      }
      lastError = state.lastError;
      if (state.status !== last && last !== 'connecting') watched.after.push(state.status);
      last = state.status;
    });
    clients.push(watched);
  }
  expect(await until(() => clients.every((c) => c.client.getState().status === 'open'), 15_000)).toBe(true);
  for (const c of clients) c.after.length = 0;

  // 50 events/s, paced against the clock, for the whole duration.
  const total = Math.round((DURATION_MS / 1000) * RATE);
  const start = Date.now();
  for (let i = 1; i <= total; i++) {
    await hub.publish(channel, 'tick', { i });
    const due = start + (i * 1000) / RATE;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  await until(() => clients.every((c) => c.count() >= total), 15_000);
  for (const c of clients) c.client.close();
  return { published: total, clients, closed, refused, tokens: 0 };
}

function expectExactlyOnce(name: string, outcome: Outcome): void {
  const { published, clients } = outcome;
  const expected = Array.from({ length: published }, (_, i) => i + 1);
  const counts = clients.map((c) => c.count());
  console.log(
    `${name}: ${published} events × ${clients.length} clients; received min ${Math.min(...counts)} max ${Math.max(...counts)}; streams ended: ${JSON.stringify(Object.fromEntries(outcome.closed))}; refused: ${JSON.stringify(Object.fromEntries(outcome.refused))}`,
  );
  for (const [index, c] of clients.entries()) {
    const label = `${name} client ${index}`;
    expect(
      c.events.map((e) => e.offset),
      label,
    ).toEqual(expected);
    expect(c.violations, label).toEqual([]);
    expect(c.resyncs, label).toEqual([]);
    expect(c.errors, label).toEqual([]);
    // Connected and open on its first hello, then never anything else.
    expect(c.after, label).toEqual(['closed']);
  }
}

const minutes = DURATION_MS + 60_000;

describe.concurrent('a minute of rotations and token refreshes at 50 events/s, 20 clients each', () => {
  it(
    'rotates every 5 s without losing, repeating or leaving open',
    async () => {
      const outcome = await soak('rotate', { maxStreamDurationMs: 5_000 }, {}, 'direct');
      expectExactlyOnce('rotation', outcome);
      // Every client rotated many times (5 s at most, 4 s at least, checked every 2 s).
      expect(outcome.closed.get('rotate') ?? 0).toBeGreaterThanOrEqual(
        CLIENTS * Math.floor(DURATION_MS / 10_000),
      );
    },
    minutes,
  );

  it.skipIf(!NGINX_BIN)(
    'rotates every 5 s through nginx (proxy_buffering off) just as well',
    async () => {
      const outcome = await soak('nginx', { maxStreamDurationMs: 5_000 }, {}, 'nginx');
      expectExactlyOnce('rotation via nginx', outcome);
      expect(outcome.closed.get('rotate') ?? 0).toBeGreaterThanOrEqual(
        CLIENTS * Math.floor(DURATION_MS / 10_000),
      );
    },
    minutes,
  );

  it(
    'moves to a new stream before each 5 s token expires: no 401, no loss, no status change',
    async () => {
      let tokens = 0;
      const reasons = new Set<string>();
      const outcome = await soak(
        'token',
        { authorize: jwtAuthorizer({ secret: SECRET }) },
        {
          token: ({ reason }) => {
            tokens++;
            reasons.add(reason);
            return mint();
          },
        },
        'direct',
      );
      expectExactlyOnce('token refresh', outcome);
      const handovers = outcome.closed.get('aborted') ?? 0;
      const late = outcome.closed.get('token_expired') ?? 0;
      console.log(
        `token refresh: ${tokens} tokens issued (${[...reasons].join(', ')}); ${handovers} old streams closed by the client after the new one opened, ${late} ended by the hub at expiry first (late handovers on a loaded machine)`,
      );
      // No request was refused: no 401 on the wire either.
      expect(outcome.refused.size).toBe(0);
      expect(reasons.has('expiry')).toBe(true);
      // Make before break happened for every client, again and again.
      expect(handovers).toBeGreaterThanOrEqual(CLIENTS * Math.floor(DURATION_MS / 10_000));
    },
    minutes,
  );
});
