/**
 * A client that saw a channel before anything was published to it holds offset 0 of an empty
 * epoch. When Redis then loses everything (FLUSHALL, a restart without persistence), the log
 * it finds later may not be the channel's first: it must get `resync`, never the new log's
 * events as if nothing had been lost. Tested through a hub, by poll and by stream.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PollResponse } from '../../src/protocol';
import { type RedisBroker, redisBroker } from '../../src/redis';
import { createHub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { type RedisServer, rawCommand, startRedis } from '../helpers/redis-server';
import { openRaw, type RawStream } from '../server/sse-reader';

interface Seen {
  data: unknown[];
  resync: string | null;
}

let redis: RedisServer | undefined;
const brokers: RedisBroker[] = [];
const hubs: HubServer[] = [];
const streams: RawStream[] = [];

afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  await Promise.all(hubs.splice(0).map((h) => h.close()));
  await Promise.all(brokers.splice(0).map((b) => b.close()));
  await redis?.stop();
  redis = undefined;
});

/** A hub on its own Redis broker (its own connections), like one process of a deployment. */
async function startHub(server: RedisServer): Promise<HubServer> {
  const broker = redisBroker({ url: server.url, commandTimeoutMs: 1000 });
  brokers.push(broker);
  await broker.ready();
  const hub = await startHubServer(createHub({ broker }));
  hubs.push(hub);
  return hub;
}

async function poll(hub: HubServer, channel: string, cursor?: string): Promise<PollResponse> {
  const query = cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`;
  const res = await fetch(`${hub.url}/poll?channels=${channel}${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as PollResponse;
}

async function stream(hub: HubServer, channel: string, cursor?: string): Promise<RawStream> {
  const s = await openRaw(`${hub.url}/stream?channels=${channel}`, cursor ? { 'last-event-id': cursor } : {});
  streams.push(s);
  await s.next((e) => e.type === 'tandem:hello');
  return s;
}

/** The cursor a client holds after seeing `channel`, which has no log yet: offset 0 of an empty epoch. */
const looks = {
  async poll(hub: HubServer, channel: string): Promise<string> {
    return (await poll(hub, channel)).cursor;
  },
  async stream(hub: HubServer, channel: string): Promise<string> {
    const s = await stream(hub, channel);
    s.close();
    return s.lastEventId;
  },
};

/** What a client coming back with `cursor` receives, by each path. */
const resumes = {
  async poll(hub: HubServer, channel: string, cursor: string): Promise<Seen> {
    const answer = await poll(hub, channel, cursor);
    return { data: answer.events.map((e) => e.data), resync: answer.resync?.reason ?? null };
  },
  async stream(hub: HubServer, channel: string, cursor: string): Promise<Seen> {
    const s = await stream(hub, channel, cursor);
    // A fence published once the stream is open: everything the hub sends before it (resync,
    // replay) has arrived once it has.
    await hub.hub.publish(channel, 'tick', 'fence');
    await s.next((e) => e.type === 'tick' && JSON.parse(e.data).data === 'fence');
    const resync = s.events.find((e) => e.type === 'tandem:resync');
    return {
      data: s.appEvents().map((e) => e.data),
      resync: resync ? (JSON.parse(resync.data) as { reason: string }).reason : null,
    };
  },
};

/** Redis loses what it held of `channel` (and maybe more); the hub then publishes again. */
const losses = {
  async FLUSHALL(server: RedisServer): Promise<void> {
    expect(await rawCommand(server.port, 'FLUSHALL')).toBe('+OK');
  },
  async 'a restart without persistence'(server: RedisServer): Promise<void> {
    await server.restart({ aof: false });
  },
  // What a crash loses with `appendfsync everysec` (the last second) or a failover to a lagging
  // replica: the rest is back, the channel's young log is not.
  async 'a restart that came back without the channel’s log'(
    server: RedisServer,
    channel: string,
  ): Promise<void> {
    await server.restart({ aof: true });
    expect(await rawCommand(server.port, `DEL tandem:{${channel}}:meta tandem:{${channel}}:log`)).toBe(':2');
  },
};

const paths = ['poll', 'stream'] as const;
const cases = paths.flatMap((path) => Object.keys(losses).map((loss) => [path, loss] as const));

describe('a client that saw a channel before its first publish, on Redis', () => {
  it.each(cases)('gets resync by %s after Redis lost the first log (%s)', async (path, loss) => {
    redis = await startRedis({ aof: true });
    const hub = await startHub(redis);
    const channel = `gap-${path}`;
    const cursor = await looks[path](hub, channel);
    for (let i = 1; i <= 3; i++) await hub.hub.publish(channel, 'tick', i);

    await losses[loss as keyof typeof losses](redis, channel);
    // A fresh log: its offset 1 is not the lost log's, and must not pass for it.
    const after = await vi.waitFor(() => hub.hub.publish(channel, 'tick', 'after'), {
      timeout: 10_000,
      interval: 50,
    });
    expect(after.offset).toBe(1);

    const seen = await resumes[path](hub, channel, cursor);
    expect(seen.resync).toBe('epoch');
    expect(seen.data).toEqual(path === 'stream' ? ['fence'] : []);
  });

  it.each(paths)(
    'receives the first log from offset 1 by %s when nothing was lost, on any hub',
    async (path) => {
      redis = await startRedis();
      const a = await startHub(redis);
      const b = await startHub(redis);
      const channel = `first-${path}`;
      const cursor = await looks[path](a, channel);
      for (let i = 1; i <= 3; i++) await b.hub.publish(channel, 'tick', i);

      expect(await resumes[path](b, channel, cursor)).toEqual({
        data: path === 'stream' ? [1, 2, 3, 'fence'] : [1, 2, 3],
        resync: null,
      });
    },
  );

  it.each(paths)(
    'continues by %s into the first log of a Redis that came back empty, once it is seen again',
    async (path) => {
      redis = await startRedis();
      const hub = await startHub(redis);
      const channel = `again-${path}`;
      await hub.hub.publish(channel, 'tick', 'lost');
      await redis.restart({ aof: false });
      // The broker reconnects and marks the new life of the dataset before anyone publishes.
      await vi.waitFor(() => hub.hub.publish('other', 'tick', 0), { timeout: 10_000, interval: 50 });
      const cursor = await looks[path](hub, channel);
      for (let i = 1; i <= 2; i++) await hub.hub.publish(channel, 'tick', i);

      expect(await resumes[path](hub, channel, cursor)).toEqual({
        data: path === 'stream' ? [1, 2, 'fence'] : [1, 2],
        resync: null,
      });
    },
  );

  it.each(paths)('receives by %s a first log that a restart with persistence kept', async (path) => {
    redis = await startRedis({ aof: true });
    const hub = await startHub(redis);
    const channel = `kept-${path}`;
    const cursor = await looks[path](hub, channel);
    for (let i = 1; i <= 3; i++) await hub.hub.publish(channel, 'tick', i);
    await redis.restart({ aof: true });
    await vi.waitFor(() => hub.hub.publish('other', 'tick', 0), { timeout: 10_000, interval: 50 });
    // The log and its epoch came back: it still is the first since the look.
    expect(await resumes[path](hub, channel, cursor)).toEqual({
      data: path === 'stream' ? [1, 2, 3, 'fence'] : [1, 2, 3],
      resync: null,
    });
  });

  it('resyncs a client that saw a channel empty before a restart once the channel gets a log, since a restart may have lost one', async () => {
    redis = await startRedis({ aof: true });
    const hub = await startHub(redis);
    const cursor = await looks.poll(hub, 'restarted');
    await redis.restart({ aof: true });
    await vi.waitFor(() => hub.hub.publish('restarted', 'tick', 1), { timeout: 10_000, interval: 50 });
    expect(await resumes.poll(hub, 'restarted', cursor)).toEqual({ data: [], resync: 'epoch' });
  });

  it('never trusts a marker it did not write, and replaces it at the next new log', async () => {
    redis = await startRedis();
    const hub = await startHub(redis);
    expect(await rawCommand(redis.port, 'SET tandem:life Not-a-marker')).toBe('+OK');
    const cursor = await looks.poll(hub, 'hand');
    await hub.hub.publish('hand', 'tick', 1);
    expect(await resumes.poll(hub, 'hand', cursor)).toEqual({ data: [], resync: 'epoch' });
    // The new log made a marker of its own: a look under it continues.
    const next = await looks.poll(hub, 'hand-2');
    await hub.hub.publish('hand-2', 'tick', 1);
    expect(await resumes.poll(hub, 'hand-2', next)).toEqual({ data: [1], resync: null });
  });

  it('resyncs a client that saw the channel after FLUSHALL but before anyone wrote, rather than guess', async () => {
    redis = await startRedis();
    const hub = await startHub(redis);
    const channel = 'unmarked';
    await rawCommand(redis.port, 'FLUSHALL');
    // The marker went with everything else; until a write makes a new one, a look carries none.
    const cursor = await looks.poll(hub, channel);
    await hub.hub.publish(channel, 'tick', 1);
    expect(await resumes.poll(hub, channel, cursor)).toEqual({ data: [], resync: 'epoch' });
    // The publish made a new marker: the next look continues.
    const next = await looks.poll(hub, 'unmarked-2');
    await hub.hub.publish('unmarked-2', 'tick', 1);
    expect(await resumes.poll(hub, 'unmarked-2', next)).toEqual({ data: [1], resync: null });
  });
});
