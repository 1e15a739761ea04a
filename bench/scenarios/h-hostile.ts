/**
 * H — hostile load: clients that ask a hub with default options for as much memory and event
 * loop time as the protocol lets them, one load per fresh server process. While each load
 * runs, a well-behaved client in its own process polls every 50 ms; the server records its own
 * event loop delay (`monitorEventLoopDelay`, 10 ms resolution) and the runner samples its RSS
 * from /proc every 50 ms. Targets: RSS under RSS_BOUND_MB, longest loop stall under 100 ms,
 * the other client's poll p99 under 100 ms.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clockMs } from '../lib/clock';
import { cpus, type ServerHandle, type ServerKind, sample, sleep, startServer } from '../lib/harness';
import { type Child, spawnChild } from '../lib/proc';
import { type Context, type Row, round, type ScenarioResult } from './types';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The bound on the hub's RSS that BENCHMARKS.md documents for these loads. */
export const RSS_BOUND_MB = 512;
const MiB = 1024 * 1024;

interface Load {
  name: string;
  what: string;
  /** The server under load. @default 'tandem' */
  server?: ServerKind;
  /** Seeds the server; returns what `run` needs. */
  prepare(server: ServerHandle): Promise<Record<string, unknown>>;
  run(server: ServerHandle, gen: Child, prepared: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** The cursor of a poll without one (each channel at its head), with every offset set to 0. */
async function cursorAtZero(server: ServerHandle, channels: string[]): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${server.port}/live/poll?channels=${channels.join(',')}`);
  const body = (await res.json()) as { cursor: string };
  return body.cursor
    .split('~')
    .map((part, i) => (i === 0 ? part : part.replace(/\.[0-9a-z]+$/, '.0')))
    .join('~');
}

const range = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

const LOADS: Load[] = [
  {
    name: 'poll amplification',
    what: '10 parallel polls from offset 0 over 64 channels × 1 000 events × 1 KB, repeated for 8 s',
    async prepare(server) {
      const channels = range(64, 'amp');
      await server.child.request('seed', { channels, count: 1000, size: 1000 }, 300_000);
      return { channels, cursor: await cursorAtZero(server, channels) };
    },
    run: (server, gen, p) =>
      gen.request('pollAmplify', { port: server.port, ...p, parallel: 10, durationMs: 8000 }, 120_000),
  },
  {
    name: 'stalled replay',
    what: '300 streams resume 10 000 events × 1 KB behind, then stop reading; held up to 20 s',
    async prepare(server) {
      await server.child.request('seed', { channels: ['stall'], count: 10_000, size: 1000 }, 300_000);
      return { path: '/live/stream?channels=stall', cursor: await cursorAtZero(server, ['stall']) };
    },
    async run(server, gen, p) {
      const opened = (await gen.request('stalledOpen', { port: server.port, ...p, count: 300 }, 120_000)) as {
        opened: number;
      };
      // Streams the hub holds, every 250 ms for 20 s: the most at once, and how many are left.
      const started = performance.now();
      const open = async () =>
        ((await server.child.request('stats')) as { hub: { connections: number } }).hub.connections;
      let most = 0;
      let left = await open();
      while (performance.now() - started < 20_000) {
        most = Math.max(most, left);
        if (most > 0 && left === 0) break;
        await sleep(250);
        left = await open();
      }
      await gen.request('stalledClose');
      return {
        ...opened,
        mostHeld: most,
        stillHeldAfter20s: left,
        noneLeftAfterMs: left === 0 ? Math.round(performance.now() - started) : null,
      };
    },
  },
  {
    name: 'replay storm',
    what: '300 streams resume 10 MB (10 000 events × 1 KB) behind at once and read it all',
    async prepare(server) {
      await server.child.request('seed', { channels: ['storm'], count: 10_000, size: 1000 }, 300_000);
      return { path: '/live/stream?channels=storm', cursor: await cursorAtZero(server, ['storm']) };
    },
    run: (server, gen, p) =>
      gen.request(
        'replayStorm',
        { port: server.port, ...p, count: 300, expectFrames: 10_001, timeoutMs: 120_000 },
        180_000,
      ),
  },
  {
    name: 'channel flood',
    what: '2 000 polls, each naming 64 channels nobody published to (128 000 names), 50 at a time',
    prepare: async () => ({}),
    run: (server, gen) =>
      gen.request(
        'channelFlood',
        { port: server.port, polls: 2000, channelsPerPoll: 64, concurrency: 50 },
        300_000,
      ),
  },
  {
    name: 'slow headers',
    what: '2 000 sockets send the start of a request and never finish its headers; held up to 30 s',
    prepare: async () => ({}),
    run: (server, gen) =>
      gen.request('slowHeaders', { port: server.port, count: 2000, holdMs: 30_000 }, 120_000),
  },
  {
    name: 'slow headers, bare node:http',
    what: 'the same 2 000 sockets against the bare floor (node:http with the same settings, no Tandem)',
    server: 'bare',
    prepare: async () => ({}),
    run: (server, gen) =>
      gen.request('slowHeaders', { port: server.port, count: 2000, holdMs: 30_000 }, 120_000),
  },
  {
    name: 'wake storm',
    what: '2 000 long polls on one channel, all woken by one publish',
    async prepare(server) {
      await server.child.request('seed', { channels: ['wake'], count: 1, size: 100 });
      const res = await fetch(`http://127.0.0.1:${server.port}/live/poll?channels=wake`);
      return { channel: 'wake', cursor: ((await res.json()) as { cursor: string }).cursor };
    },
    async run(server, gen, p) {
      await gen.request('wakeStart', { port: server.port, ...p, count: 2000 });
      // Every long poll is waiting before the event comes.
      const deadline = performance.now() + 30_000;
      for (;;) {
        const stats = (await server.child.request('stats')) as { hub: { waiters: number } };
        if (stats.hub.waiters >= 2000 || performance.now() > deadline) break;
        await sleep(100);
      }
      const publishedAt = clockMs();
      await server.child.request('seed', { channels: ['wake'], count: 1, size: 100 });
      return gen.request('wakeResult', { publishedAt }, 60_000);
    },
  },
];

async function measure(ctx: Context, load: Load): Promise<Row> {
  const server = await startServer(load.server ?? 'tandem');
  const gen = await spawnChild(path.join(here, '../gen/hostile.ts'), {
    cpus: cpus().generator,
    label: 'hostile generator',
    nodeFlags: ['--max-old-space-size=4096'],
  });
  // The load may take all of the generator's core; the probe must still run on time.
  try {
    os.setPriority(gen.pid, 10);
  } catch {}
  const probe = await spawnChild(path.join(here, '../gen/probe.ts'), {
    cpus: cpus().generator,
    label: 'probe',
  });
  try {
    const prepared = await load.prepare(server);
    await server.child.request('gc');
    const base = sample(server).rssBytes;
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, sample(server).rssBytes);
    }, 50);
    await server.child.request('loopStart');
    await probe.request('start', { port: server.port, intervalMs: 50 });
    const started = performance.now();
    let result: Record<string, unknown>;
    try {
      result = await load.run(server, gen, prepared);
    } finally {
      // A second more, for what the load leaves behind.
      await sleep(1000);
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    const loop = (await server.child.request('loopStop')) as {
      maxMs: number;
      p99Ms: number;
      maxCpuMs: number;
    };
    const polled = (await probe.request('stop')) as {
      p99Ms: number;
      maxMs: number;
      errors: number;
      count: number;
    };
    await server.child.request('gc');
    const after = sample(server).rssBytes;
    const stats = (await server.child.request('stats')) as { broker?: { channels?: number } } | undefined;
    ctx.log(
      `H ${load.name}: ${JSON.stringify(result)}; loop max ${round(loop.maxMs)} ms; probe p99 ${round(polled.p99Ms)} ms`,
    );
    return {
      name: load.name,
      seconds: round(seconds, 1),
      baseRssMb: round(base / MiB, 0),
      peakRssMb: round(peak / MiB, 0),
      afterRssMb: round(after / MiB, 0),
      loopMaxMs: round(loop.maxMs, 0),
      loopMaxCpuMs: round(loop.maxCpuMs, 0),
      probeP99Ms: round(polled.p99Ms, 1),
      probeMaxMs: round(polled.maxMs, 1),
      probeErrors: polled.errors,
      logs: stats?.broker?.channels ?? null,
      result: JSON.stringify(result),
    };
  } finally {
    await Promise.allSettled([gen.stop(), probe.stop()]);
    await server.child.stop();
  }
}

export async function runHostile(ctx: Context): Promise<ScenarioResult> {
  const rows: Row[] = [];
  // BENCH_H_LOADS="slow headers,wake storm" runs only those loads.
  const only = process.env.BENCH_H_LOADS?.split(',').map((s) => s.trim());
  for (const load of LOADS) if (!only || only.includes(load.name)) rows.push(await measure(ctx, load));
  const worst = (key: string) => Math.max(...rows.map((r) => Number(r[key])));
  return {
    id: 'H',
    title: 'Hostile load: bounded memory and event loop time',
    params: { rssBoundMb: RSS_BOUND_MB },
    rows,
    columns: [
      ['seconds', 'load s'],
      ['baseRssMb', 'RSS before MB'],
      ['peakRssMb', 'RSS peak MB'],
      ['afterRssMb', 'RSS after MB'],
      ['loopMaxMs', 'longest loop stall ms'],
      ['loopMaxCpuMs', 'of it CPU ms'],
      ['probeP99Ms', 'other client poll p99 ms'],
      ['probeMaxMs', 'poll max ms'],
      ['probeErrors', 'poll errors'],
      ['logs', 'logs kept'],
    ],
    targets: [
      {
        label: `RSS under ${RSS_BOUND_MB} MB`,
        value: `${worst('peakRssMb')} MB`,
        met: worst('peakRssMb') < RSS_BOUND_MB,
      },
      {
        label: 'longest event loop stall < 100 ms',
        value: `${worst('loopMaxMs')} ms`,
        met: worst('loopMaxMs') < 100,
      },
      {
        label: "another client's poll p99 < 100 ms",
        value: `${worst('probeP99Ms')} ms`,
        met: worst('probeP99Ms') < 100 && worst('probeErrors') === 0,
      },
    ],
    notes: [
      ...LOADS.map((l) => `${l.name}: ${l.what}.`),
      ...rows.map((r) => `${r.name}: ${r.result}`),
      'Each load runs against a fresh server with default options (memory broker); seeding happens before the measured window.',
    ],
  };
}
