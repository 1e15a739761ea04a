import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryBroker, presenceStoreOf } from '../../src/broker';
import { createLiveClient, type LiveClient, type PresenceChange } from '../../src/client';
import { PRESENCE_EVENT, type PresencePayload } from '../../src/protocol';
import { createHub, type HubOptions } from '../../src/server';
import { transportNamed } from '../client/harness';
import { startFaultProxy } from '../helpers/fault-proxy';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { openRaw, type RawStream } from '../server/sse-reader';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.restoreAllMocks();
});

/** A hub whose authorizer takes the subject from `?as=` and the member's name from `?name=`. */
async function serve(options: HubOptions = {}, broker = memoryBroker()): Promise<HubServer> {
  const server = await startHubServer(
    createHub({
      broker,
      presence: { graceMs: 300, intervalMs: 50 },
      authorize: (request) => {
        const subject = request.query.get('as');
        if (!subject) return null;
        const name = request.query.get('name');
        return { subject, channels: ['**'], ...(name ? { info: { name } } : {}) };
      },
      ...options,
    }),
  );
  cleanups.push(() => server.close());
  return server;
}

async function stream(server: HubServer, channel: string, as: string, name = as): Promise<RawStream> {
  const raw = await openRaw(
    `${server.url}/stream?channels=${channel}&as=${as}&name=${encodeURIComponent(name)}`,
  );
  cleanups.push(() => raw.close());
  return raw;
}

/** Every presence view a raw stream received for a channel, in order. */
function views(raw: RawStream, channel = 'room:1'): PresencePayload[] {
  return raw.events
    .filter((event) => event.type === PRESENCE_EVENT)
    .map((event) => JSON.parse(event.data) as PresencePayload)
    .filter((payload) => payload.channel === channel);
}

const latest = (raw: RawStream) => views(raw).at(-1);
const subjects = (payload: PresencePayload | undefined) => payload?.members?.map((m) => m.subject) ?? [];

describe('presence on the hub', () => {
  it('counts users and connections, lists members with their info, and tells every follower', async () => {
    const server = await serve();
    const alice = await stream(server, 'room:1', 'alice', 'Alice');
    await stream(server, 'room:1', 'alice', 'Alice');
    const bob = await stream(server, 'room:1', 'bob', 'Bob');
    await vi.waitFor(() => expect(latest(alice)).toMatchObject({ users: 2, connections: 3 }));
    expect(await server.hub.presence('room:1')).toEqual({
      users: 2,
      connections: 3,
      members: [
        { subject: 'alice', info: { name: 'Alice' }, connections: 2 },
        { subject: 'bob', info: { name: 'Bob' }, connections: 1 },
      ],
    });
    // The first view of a stream comes right after its hello, marked as a snapshot.
    expect(bob.events[0]!.type).toBe('tandem:hello');
    expect(bob.events[1]!.type).toBe(PRESENCE_EVENT);
    expect(JSON.parse(bob.events[1]!.data)).toMatchObject({ snapshot: true, users: 2, connections: 3 });
    // Versions only grow.
    const versions = views(alice).map((view) => view.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  });

  it('sends counts only above maxMembers', async () => {
    const server = await serve({ presence: { maxMembers: 2, graceMs: 300, intervalMs: 50 } });
    const watcher = await stream(server, 'room:1', 'u0');
    await stream(server, 'room:1', 'u1');
    await vi.waitFor(() => expect(subjects(latest(watcher))).toEqual(['u0', 'u1']));
    await stream(server, 'room:1', 'u2');
    await vi.waitFor(() => expect(latest(watcher)).toMatchObject({ users: 3, connections: 3 }));
    expect(latest(watcher)!.members).toBeUndefined();
    expect(await server.hub.presence('room:1')).toEqual({ users: 3, connections: 3 });
  });

  it('announces a leave after the grace, and a reload within it is neither a leave nor a join', async () => {
    const server = await serve({ presence: { graceMs: 400, intervalMs: 20 } });
    const watcher = await stream(server, 'room:1', 'watcher');
    let alice = await stream(server, 'room:1', 'alice');
    await vi.waitFor(() => expect(subjects(latest(watcher))).toEqual(['watcher', 'alice']));
    for (let reload = 0; reload < 3; reload++) {
      alice.close();
      alice = await stream(server, 'room:1', 'alice');
      await vi.waitFor(() => expect(latest(alice)).toMatchObject({ snapshot: true }));
    }
    // An ended stream of a member who has another does not count: back to one connection.
    await vi.waitFor(async () =>
      expect(await server.hub.presence('room:1')).toMatchObject({ connections: 2 }),
    );
    expect(views(watcher).every((view) => subjects(view).includes('alice') || view.users === 1)).toBe(true);
    const seen = views(watcher).map(subjects);
    const firstWithAlice = seen.findIndex((list) => list.includes('alice'));
    expect(seen.slice(firstWithAlice).every((list) => list.includes('alice'))).toBe(true);
    const closedAt = Date.now();
    alice.close();
    await vi.waitFor(() => expect(subjects(latest(watcher))).toEqual(['watcher']), { timeout: 5000 });
    // Not before the grace.
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(380);
    expect(await server.hub.presence('room:1')).toMatchObject({ users: 1, connections: 1 });
  });

  it('keeps nothing once 200 streams came and went and the grace passed', async () => {
    const broker = memoryBroker();
    const server = await serve({}, broker);
    const streams: RawStream[] = [];
    for (let i = 0; i < 200; i++) streams.push(await stream(server, `room:${i % 7}`, `user-${i % 50}`));
    await vi.waitFor(() => expect(server.hub.stats().presence).toMatchObject({ streams: 200, channels: 7 }));
    for (const raw of streams) raw.close();
    await vi.waitFor(
      () => expect(server.hub.stats().presence).toEqual({ streams: 0, channels: 0, leaving: 0 }),
      {
        timeout: 5000,
      },
    );
    for (let i = 0; i < 7; i++)
      expect(await presenceStoreOf(broker).read(`room:${i}`)).toEqual({ version: 0, entries: [] });
  });

  it('keeps channels outside its patterns out, and refuses them in hub.presence', async () => {
    const server = await serve({ presence: { channels: ['room:*'] } });
    const raw = await stream(server, 'other:1', 'alice');
    await vi.waitFor(() => expect(raw.events.length).toBeGreaterThan(0));
    expect(raw.events.some((event) => event.type === PRESENCE_EVENT)).toBe(false);
    await expect(server.hub.presence('other:1')).rejects.toMatchObject({ code: 'bad_request' });
    const off = await serve({ presence: false });
    await expect(off.hub.presence('room:1')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(server.hub.presence('bad channel')).rejects.toMatchObject({ code: 'invalid_channel' });
  });

  it('refuses bad presence options at createHub, naming them', () => {
    expect(() => createHub({ presence: { graceMs: -1 } })).toThrow(/presence\.graceMs/);
    expect(() => createHub({ presence: { intervalMs: 0 } })).toThrow(/presence\.intervalMs/);
    expect(() => createHub({ presence: { maxMembers: 1.5 } })).toThrow(/presence\.maxMembers/);
    expect(() => createHub({ presence: { channels: [] } })).toThrow(TypeError);
    expect(() => createHub({ presence: { channels: ['bad channel'] } })).toThrow(/presence\.channels/);
    expect(() => createHub({ presence: 'yes' as never })).toThrow(TypeError);
  });

  it('bounds hostile input: a huge info is left out, 10 000 joins make a counts-only view', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const broker = memoryBroker();
    const server = await serve({}, broker);
    // As large as a URL may carry it here: ten times the bound.
    const huge = 'x'.repeat(10_000);
    const raw = await stream(server, 'room:1', 'mallory', huge);
    await vi.waitFor(() => expect(latest(raw)).toMatchObject({ users: 1 }));
    expect(latest(raw)!.members).toEqual([{ subject: 'mallory', connections: 1 }]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/maxInfoBytes/);
    // 10 000 members join through the store, as other hubs' streams would.
    const store = presenceStoreOf(broker);
    const joins = Array.from({ length: 10_000 }, (_, i) => ({ connection: `x-${i}`, subject: `user-${i}` }));
    for (let i = 0; i < joins.length; i += 500) await store.put('room:1', joins.slice(i, i + 500));
    await vi.waitFor(() => expect(latest(raw)).toMatchObject({ users: 10_001, connections: 10_001 }));
    const frames = raw.events.filter((event) => event.type === PRESENCE_EVENT);
    expect(Math.max(...frames.map((event) => event.data.length))).toBeLessThan(200);
    // Coalesced: twenty puts, far fewer frames.
    expect(frames.length).toBeLessThan(10);
  });
});

describe('presence in the client', () => {
  async function client(url: string, as: string, channel = 'room:1'): Promise<LiveClient> {
    const live = createLiveClient({
      url,
      channels: [channel],
      storage: null,
      token: as,
      shareAcrossTabs: false,
    });
    cleanups.push(() => live.close());
    live.start();
    return live;
  }

  it("follows the channel's view, with joins and leaves, and converges after a cut", async () => {
    const server = await serve({
      authorize: (request) => ({
        subject: request.token ?? 'nobody',
        channels: ['**'],
        info: { name: request.token },
      }),
    });
    const proxy = await startFaultProxy(Number(new URL(server.url).port));
    cleanups.push(() => proxy.close());
    const alice = await client(proxy.url(), 'alice');
    const changes: PresenceChange[] = [];
    cleanups.push(alice.onPresence('room:1', (_view, change) => changes.push(change)));
    expect(alice.presence('room:1')).toEqual({ users: 0, connections: 0, synced: false });
    await vi.waitFor(() => expect(alice.presence('room:1')).toMatchObject({ users: 1, synced: true }));
    const bob = await client(server.url, 'bob');
    await vi.waitFor(() => expect(alice.presence('room:1')).toMatchObject({ users: 2, connections: 2 }));
    expect(changes.flatMap((change) => change.joined.map((member) => member.subject))).toContain('bob');
    // Cut alice's stream: her view is no longer current until the new stream's snapshot.
    const unsynced = vi.fn();
    cleanups.push(alice.onPresence('room:1', (view) => view.synced || unsynced()));
    bob.close();
    proxy.cut();
    await vi.waitFor(() => expect(unsynced).toHaveBeenCalled());
    await vi.waitFor(() => expect(alice.presence('room:1')).toMatchObject({ synced: true, users: 1 }), {
      timeout: 5000,
    });
    expect(alice.presence('room:1')).toEqual({ ...(await server.hub.presence('room:1')), synced: true });
    expect(changes.flatMap((change) => change.left.map((member) => member.subject))).toEqual(['bob']);
  });

  it('reaches a client on an EventSource too', async () => {
    const server = await serve({
      authorize: (request) => ({ subject: request.token ?? 'nobody', channels: ['**'] }),
    });
    const live = createLiveClient({
      url: server.url,
      channels: ['room:1'],
      storage: null,
      token: 'eve',
      shareAcrossTabs: false,
      transport: transportNamed('eventsource'),
    });
    cleanups.push(() => live.close());
    live.start();
    await vi.waitFor(() =>
      expect(live.presence('room:1')).toEqual({
        users: 1,
        connections: 1,
        members: [{ subject: 'eve', connections: 1 }],
        synced: true,
      }),
    );
  });

  it('a rotating stream is never a leave', async () => {
    let aliceStreams = 0;
    const server = await serve({
      maxStreamDurationMs: 150,
      heartbeatMs: 50,
      authorize: (request) => {
        if (request.token === 'alice') aliceStreams++;
        return { subject: request.token ?? 'nobody', channels: ['**'] };
      },
    });
    const watcher = await client(server.url, 'watcher');
    const left: string[] = [];
    cleanups.push(
      watcher.onPresence('room:1', (_v, change) => left.push(...change.left.map((m) => m.subject))),
    );
    await client(server.url, 'alice');
    await vi.waitFor(() => expect(watcher.presence('room:1')).toMatchObject({ users: 2 }));
    // Five streams of alice's in turn: four rotations.
    await vi.waitFor(() => expect(aliceStreams).toBeGreaterThanOrEqual(5), { timeout: 5000 });
    expect(left).toEqual([]);
    expect(watcher.presence('room:1')).toMatchObject({ users: 2, synced: true });
    expect(await server.hub.presence('room:1')).toMatchObject({ users: 2 });
  });
});
