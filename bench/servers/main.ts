/**
 * One server under test, alone in its process so that its CPU and RSS are its own. The runner
 * starts it as `main.ts <kind>` and drives it over IPC: publish at a rate, burst, disconnect.
 * Events are published from inside this process, so publishing costs count as server CPU.
 */
import { clockMs } from '../lib/clock';
import { serveRequests } from '../lib/proc';
import { type BenchPayload, type BenchServer, CHANNEL, type ServerOptions } from './types';

const now = clockMs;

const kind = process.argv[2] ?? 'tandem';
const options: ServerOptions = {
  heartbeatMs: Number(process.env.BENCH_HEARTBEAT_MS ?? 2000),
  redisUrl: process.env.BENCH_REDIS_URL || undefined,
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

/** Publishes `count` events at `rate` per second (drift-corrected), or all at once with rate 0. */
async function publishAt(rate: number, count: number, size: number): Promise<PublishResult> {
  const pending: Promise<unknown>[] = [];
  let failed = 0;
  let published = 0;
  const firstAt = now();
  let lastAt = firstAt;
  const one = () => {
    try {
      const r = server.publish(CHANNEL, payload(size));
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
    const tick = Math.max(1, Math.min(50, 1000 / rate));
    await new Promise<void>((resolve) => {
      const step = () => {
        const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
        while (published < due) one();
        if (published >= count) resolve();
        else setTimeout(step, Math.max(0, start + (published * 1000) / rate - performance.now(), tick / 4));
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
    publish: (a) => publishAt(Number(a.rate), Number(a.count), Number(a.size ?? 100)),
    disconnect: () => server.disconnectAll(),
    gc: () => {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      return gc !== undefined;
    },
    usage: () => ({ cpu: process.cpuUsage(), memory: process.memoryUsage() }),
  },
  () => server.close(),
);
