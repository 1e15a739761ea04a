/**
 * PRES presence: a join/leave storm and the cost of idle presence, with the memory broker and
 * with Redis (a private redis-server). Everything runs in this process: the hub the followers
 * watch, a second hub the members connect to (on the same broker, so their presence reaches
 * the first through the store), and their HTTP streams. CPU is this process's (hubs and
 * clients together) and redis-server's, from the kernel's counters.
 *
 * Storm: `--clients` members (2 000) join over the first half of `--duration` (10 s) and each
 * leaves half the duration after it joined; 100 followers watch the channel. Figures: CPU,
 * `tandem:presence` frames and bytes per follower, and the time from the last leave until every
 * follower's view is back to the followers alone (which includes the grace, 5 s).
 * Idle: connections open on one presence channel, nothing changing, Redis TTL 3 s (a refresh
 * a second) for a window: EVAL calls and Redis CPU per refresh, for two connection counts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Broker, memoryBroker } from '../../packages/tandem/src/broker';
import { createParser, PRESENCE_EVENT, type PresencePayload } from '../../packages/tandem/src/protocol';
import { redisBroker } from '../../packages/tandem/src/redis';
import { createHub, type Hub } from '../../packages/tandem/src/server';
import { sleep } from '../lib/harness';
import { sampleProcess } from '../lib/proc';
import { type RedisServer, startRedis } from '../lib/redis';
import { type Context, type Row, round, type ScenarioResult } from './types';

const CHANNEL = 'room:storm';

interface Served {
  hub: Hub;
  url: string;
  close(): Promise<void>;
}

async function serve(broker: Broker): Promise<Served> {
  const hub = createHub({
    broker,
    presence: true,
    maxConnections: 100_000,
    authorize: (request) => ({ subject: request.query.get('as') ?? 'x', channels: ['**'] }),
  });
  const server = http.createServer(hub.node);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    hub,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await hub.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

/** A stream; `onPresence` gets every presence frame with its size. */
function open(url: string, as: string, onPresence?: (view: PresencePayload, bytes: number) => void) {
  const request = http.get(`${url}/stream?channels=${CHANNEL}&as=${as}`, { agent });
  const parser = createParser({
    onEvent: (event) => {
      if (event.type === PRESENCE_EVENT && onPresence) {
        onPresence(JSON.parse(event.data) as PresencePayload, event.data.length + 30);
      }
    },
  });
  const ready = new Promise<void>((resolve, reject) => {
    request.once('response', (response) => {
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => parser.feed(chunk));
      response.on('error', () => {});
      resolve();
    });
    request.once('error', reject);
  });
  return { ready, close: () => request.destroy() };
}

const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

async function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

async function storm(
  ctx: Context,
  kind: 'memory' | 'redis',
  redis: RedisServer,
  members: number,
  durationS: number,
): Promise<Row> {
  const brokers =
    kind === 'memory' ? [memoryBroker()] : [redisBroker({ url: redis.url }), redisBroker({ url: redis.url })];
  const watched = await serve(brokers[0]!);
  const joined = await serve(brokers[brokers.length - 1]!);
  const followers = 100;
  const views: (PresencePayload | null)[] = new Array(followers).fill(null);
  let frames = 0;
  let bytes = 0;
  const watchers = Array.from({ length: followers }, (_, i) =>
    open(watched.url, 'watcher', (view, size) => {
      views[i] = view;
      frames++;
      bytes += size;
    }),
  );
  await Promise.all(watchers.map((w) => w.ready));
  await until(() => views.every((view) => view?.connections === followers), 10_000);
  frames = 0;
  bytes = 0;
  const cpu0 = cpuSeconds();
  const redis0 = sampleProcess(redis.pid);
  const half = (durationS * 1000) / 2;
  const started = Date.now();
  let peak = 0;
  const streams: { close(): void }[] = [];
  let lastLeave = 0;
  await new Promise<void>((resolve) => {
    let left = 0;
    for (let i = 0; i < members; i++) {
      const at = (i * half) / members;
      setTimeout(() => {
        const member = open(joined.url, `m${i}`);
        streams.push(member);
        member.ready.catch(() => {});
        setTimeout(() => {
          member.close();
          lastLeave = Date.now();
          if (++left === members) resolve();
        }, half);
      }, at);
    }
    const peakTimer = setInterval(() => {
      peak = Math.max(peak, views[0]?.users ?? 0);
      if (Date.now() - started > 2 * half + 1000) clearInterval(peakTimer);
    }, 100);
  });
  const converged = await until(() => views.every((view) => view?.users === 1), 60_000);
  const convergeMs = Date.now() - lastLeave;
  const cpu = cpuSeconds() - cpu0;
  const redisCpu = kind === 'redis' ? sampleProcess(redis.pid).cpuSeconds - redis0.cpuSeconds : 0;
  ctx.log(`PRES storm ${kind}: peak ${peak} users, converged ${converged} in ${convergeMs} ms`);
  for (const w of watchers) w.close();
  await joined.close();
  await watched.close();
  for (const broker of brokers) await broker.close();
  return {
    name: `storm ${kind}`,
    members,
    peakUsers: peak,
    cpuS: round(cpu, 2),
    redisCpuS: round(redisCpu, 3),
    framesPerFollower: round(frames / followers, 1),
    kbPerFollower: round(bytes / followers / 1000, 1),
    convergeMs: converged ? convergeMs : 'no',
  };
}

async function idle(ctx: Context, redis: RedisServer, connections: number, windowS: number): Promise<Row> {
  const broker = redisBroker({ url: redis.url, presenceTtlMs: 3000 });
  const served = await serve(broker);
  const streams: ReturnType<typeof open>[] = [];
  // In batches: thousands of connects at once overflow the listen backlog.
  for (let i = 0; i < connections; i += 100) {
    const batch = Array.from({ length: Math.min(100, connections - i) }, (_, j) =>
      open(served.url, `u${i + j}`),
    );
    streams.push(...batch);
    await Promise.all(batch.map((s) => s.ready));
  }
  await until(() => served.hub.stats().connections === connections, 30_000);
  await sleep(1500);
  const evals = async () => {
    const info = await commandStats(redis);
    return Number(/cmdstat_eval:calls=(\d+)/.exec(info)?.[1] ?? 0);
  };
  const e0 = await evals();
  const r0 = sampleProcess(redis.pid);
  const c0 = cpuSeconds();
  await sleep(windowS * 1000);
  const e1 = await evals();
  const redisCpu = sampleProcess(redis.pid).cpuSeconds - r0.cpuSeconds;
  const cpu = cpuSeconds() - c0;
  ctx.log(`PRES idle: ${connections} connections, ${e1 - e0} EVALs in ${windowS} s`);
  for (const s of streams) s.close();
  await served.close();
  await broker.close();
  const refreshes = windowS; // one a second at a 3 s TTL
  return {
    name: `idle ${connections}`,
    members: connections,
    evalsPerRefresh: round((e1 - e0) / refreshes, 2),
    refreshesPerMinuteAtDefault: 6,
    redisCpuMsPerRefresh: round((redisCpu * 1000) / refreshes, 3),
    cpuMsPerRefresh: round((cpu * 1000) / refreshes, 2),
  };
}

async function commandStats(redis: RedisServer): Promise<string> {
  const { createClient } = await import('redis');
  const client = createClient({ url: redis.url });
  await client.connect();
  const info = await client.info('commandstats');
  await client.close();
  return info;
}

export async function runPresence(ctx: Context): Promise<ScenarioResult> {
  const members = ctx.options.clients ?? 2000;
  const duration = ctx.options.duration ?? 10;
  const redis = await startRedis(undefined);
  const rows: Row[] = [];
  try {
    rows.push(await storm(ctx, 'memory', redis, members, duration));
    rows.push(await storm(ctx, 'redis', redis, members, duration));
    rows.push(await idle(ctx, redis, 500, 5));
    rows.push(await idle(ctx, redis, 2000, 5));
  } finally {
    await redis.stop();
  }
  return {
    id: 'PRES',
    title: 'presence: a join/leave storm on one channel, and idle presence on Redis',
    params: { members, duration, followers: 100 },
    rows,
    columns: [
      ['members', 'members'],
      ['peakUsers', 'peak users'],
      ['cpuS', 'process CPU s'],
      ['redisCpuS', 'Redis CPU s'],
      ['framesPerFollower', 'frames/follower'],
      ['kbPerFollower', 'KB/follower'],
      ['convergeMs', 'converged after last leave, ms'],
      ['evalsPerRefresh', 'EVALs/refresh'],
      ['redisCpuMsPerRefresh', 'Redis CPU ms/refresh'],
      ['cpuMsPerRefresh', 'process CPU ms/refresh'],
    ],
    targets: [],
    notes: [
      'Storm: joins spread over the first half of the window, each member leaving half a window after it joined; 100 followers on the watched hub, members on a second hub of the same broker.',
      'Convergence includes the 5 s grace before a leave counts, and the 1 s interval of the views.',
      'Idle: the refresh is one EVAL per channel per hub whatever the connection count; at the default TTL (30 s) it runs every 10 s.',
    ],
  };
}
