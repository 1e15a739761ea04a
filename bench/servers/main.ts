/**
 * One server under test, alone in its process so that its CPU and RSS are its own. The runner
 * starts it as `main.ts <kind>` and drives it over IPC: publish at a rate, burst, disconnect.
 * Events are published from inside this process, so publishing costs count as server CPU.
 */

import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { clockMs } from '../lib/clock';
import { serveRequests } from '../lib/proc';
import { type BenchPayload, type BenchServer, CHANNEL, type ServerOptions } from './types';

const now = clockMs;
let loopDelay: IntervalHistogram | undefined;
let cpuTimer: NodeJS.Timeout | undefined;
let maxStallCpuMs = 0;

const kind = process.argv[2] ?? 'tandem';
const options: ServerOptions = {
  heartbeatMs: Number(process.env.BENCH_HEARTBEAT_MS ?? 2000),
  redisUrl: process.env.BENCH_REDIS_URL || undefined,
  databaseUrl: process.env.BENCH_DATABASE_URL || undefined,
};

const adapters: Record<string, () => Promise<{ start(o: ServerOptions): Promise<BenchServer> }>> = {
  tandem: () => import('./tandem'),
  'better-sse': () => import('./better-sse'),
  socketio: () => import('./socketio'),
  bare: () => import('./bare'),
};

const load = adapters[kind];
if (!load) throw new Error(`unknown server kind ${kind}`);
const server = await (await load()).start(options);

function payload(size: number): BenchPayload {
  const bt = Math.round(now() * 1000) / 1000;
  // {"bt":<stamp>,"p":""} is about 30 bytes; pad the rest to reach `size`.
  return { bt, p: 'x'.repeat(Math.max(0, size - 12 - String(bt).length - 12)) };
}

interface PublishResult {
  published: number;
  failed: number;
  firstAt: number;
  lastAt: number;
}

/**
 * Publishes `count` events at `rate` per second (drift-corrected), `batch` per macrotask, or
 * all in one go with rate 0; round robin over `channels` (S10), by default the one channel.
 */
async function publishAt(
  rate: number,
  count: number,
  size: number,
  batch: number,
  channels: readonly string[] = [CHANNEL],
): Promise<PublishResult> {
  const pending: Promise<unknown>[] = [];
  let failed = 0;
  let published = 0;
  const firstAt = now();
  let lastAt = firstAt;
  const one = () => {
    try {
      const r = server.publish(channels[published % channels.length]!, payload(size));
      if (r instanceof Promise) pending.push(r.catch(() => failed++));
    } catch {
      failed++;
    }
    published++;
    lastAt = now();
  };
  if (rate <= 0) {
    for (let i = 0; i < count; i++) one();
  } else {
    const start = performance.now();
    await new Promise<void>((resolve) => {
      // By default one event per macrotask, as when each publish comes from its own request:
      // a server that coalesces writes per tick gets no free batching from the benchmark.
      // When behind schedule, the next event follows at once (setImmediate), else at its due time.
      const step = () => {
        for (let i = 0; i < batch && published < count; i++) one();
        if (published >= count) {
          resolve();
          return;
        }
        const wait = start + (published * 1000) / rate - performance.now();
        if (wait <= 0) setImmediate(step);
        else setTimeout(step, wait);
      };
      step();
    });
  }
  await Promise.all(pending);
  return { published, failed, firstAt, lastAt };
}

serveRequests(
  {
    info: () => ({ port: server.port, pid: process.pid, kind }),
    connections: () => server.connections(),
    publish: (a) =>
      publishAt(
        Number(a.rate),
        Number(a.count),
        Number(a.size ?? 100),
        Number(a.batch ?? 1),
        a.channels as string[] | undefined,
      ),
    disconnect: () => server.disconnectAll(),
    seed: (a) => server.seed?.(a.channels as string[], Number(a.count), Number(a.size)),
    stats: () => server.stats?.(),
    silentAppend: (a) => {
      if (!server.silentAppend) throw new Error(`${kind} cannot append silently (Tandem on Redis only)`);
      return server.silentAppend(CHANNEL, payload(Number(a.size ?? 100)));
    },
    /** Starts recording the event loop's delays (scenario H); `loopStop` reports them. */
    loopStart: () => {
      loopDelay?.disable();
      loopDelay = monitorEventLoopDelay({ resolution: 10 });
      loopDelay.enable();
      // The same stalls in CPU time: on a shared machine the wall clock also counts the time
      // other processes had the core. Every 10 ms: the CPU this process used since the last
      // tick; a tick that came late after using CPU is a task that held the loop that long.
      if (cpuTimer) clearInterval(cpuTimer);
      let last = process.cpuUsage();
      let lastAt = performance.now();
      maxStallCpuMs = 0;
      cpuTimer = setInterval(() => {
        const usage = process.cpuUsage(last);
        last = process.cpuUsage();
        const at = performance.now();
        if (at - lastAt > 20) maxStallCpuMs = Math.max(maxStallCpuMs, (usage.user + usage.system) / 1000);
        lastAt = at;
      }, 10);
      return true;
    },
    loopStop: () => {
      const h = loopDelay;
      loopDelay = undefined;
      if (cpuTimer) clearInterval(cpuTimer);
      cpuTimer = undefined;
      if (!h) return null;
      h.disable();
      return {
        maxMs: h.max / 1e6,
        p99Ms: h.percentile(99) / 1e6,
        meanMs: h.mean / 1e6,
        maxCpuMs: maxStallCpuMs,
      };
    },
    gc: () => {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      return gc !== undefined;
    },
    usage: () => ({ cpu: process.cpuUsage(), memory: process.memoryUsage() }),
    /** Writes a V8 heap snapshot (to find what a connection retains); returns its path. */
    heapSnapshot: (a) => writeHeapSnapshot(String(a.path)),
  },
  () => server.close(),
);
