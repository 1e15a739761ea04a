import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PRESENCE_EVENT, type PresencePayload } from '../../src/protocol';
import { redisBroker } from '../../src/redis';
import { createHub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { type RedisServer, startRedis } from '../helpers/redis-server';
import { openRaw, type RawStream } from '../server/sse-reader';

const FIXTURE = fileURLToPath(new URL('./fixtures/presence-hub.ts', import.meta.url));
const TTL_MS = 1500;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function redisHub(redis: RedisServer): Promise<HubServer> {
  const broker = redisBroker({ url: redis.url, presenceTtlMs: TTL_MS });
  await broker.ready();
  const server = await startHubServer(
    createHub({
      broker,
      presence: { graceMs: 200, intervalMs: 50 },
      authorize: (request) => ({ subject: request.query.get('as') ?? 'nobody', channels: ['**'] }),
    }),
  );
  cleanups.push(async () => {
    await server.close();
    await broker.close();
  });
  return server;
}

async function stream(url: string, as: string): Promise<RawStream> {
  const raw = await openRaw(`${url}/stream?channels=room:1&as=${as}`);
  cleanups.push(() => raw.close());
  return raw;
}

function latest(raw: RawStream): PresencePayload | undefined {
  const frames = raw.events.filter((event) => event.type === PRESENCE_EVENT);
  const last = frames.at(-1);
  return last && (JSON.parse(last.data) as PresencePayload);
}
const subjects = (view: { members?: { subject: string }[] } | undefined) =>
  view?.members?.map((member) => member.subject).sort() ?? [];

describe('presence on Redis', () => {
  it('two hubs on one Redis see one view, and a leave on one reaches the other', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const [a, b] = [await redisHub(redis), await redisHub(redis)];
    const alice = await stream(a.url, 'alice');
    const bob = await stream(b.url, 'bob');
    await vi.waitFor(() => expect(subjects(latest(alice))).toEqual(['alice', 'bob']));
    await vi.waitFor(() => expect(subjects(latest(bob))).toEqual(['alice', 'bob']));
    expect(await a.hub.presence('room:1')).toEqual(await b.hub.presence('room:1'));
    expect(await a.hub.presence('room:1')).toMatchObject({ users: 2, connections: 2 });
    bob.close();
    await vi.waitFor(() => expect(subjects(latest(alice))).toEqual(['alice']), { timeout: 5000 });
    expect(await b.hub.presence('room:1')).toMatchObject({ users: 1, connections: 1 });
  });

  it('drops the members of a hub killed with -9 within the TTL and a refresh, and announces their leave', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      env: { ...process.env, REDIS_URL: redis.url, PRESENCE_TTL_MS: String(TTL_MS) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    cleanups.push(() => child.kill('SIGKILL'));
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const doomed = (JSON.parse(line.toString()) as { url: string }).url;
    const survivor = await redisHub(redis);
    const watcher = await stream(survivor.url, 'watcher');
    const carol = await openRaw(`${doomed}/stream?channels=room:1&as=carol`);
    cleanups.push(() => carol.close());
    await vi.waitFor(() => expect(subjects(latest(watcher))).toEqual(['carol', 'watcher']));
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await vi.waitFor(() => expect(subjects(latest(watcher))).toEqual(['watcher']), { timeout: 10_000 });
    const took = Date.now() - killedAt;
    // The bound: the TTL, a refresh (a third of it) and the coalescing interval; 2× for a busy machine.
    expect(took).toBeLessThan(2 * (TTL_MS + TTL_MS / 3 + 50));
    // Not at once either: a killed hub says nothing, its entries expire.
    expect(took).toBeGreaterThan(TTL_MS / 3);
    expect(await survivor.hub.presence('room:1')).toEqual({
      users: 1,
      connections: 1,
      members: [{ subject: 'watcher', connections: 1 }],
    });
  });
});
