/**
 * The pieces every scenario uses: a server under test in its own (pinned) process, a sharded
 * load generator on the other cores, and merged reports.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServers } from './build';
import { Histogram, type HistogramData } from './histogram';
import { type Child, type CpuPlan, planCpus, sampleProcess, spawnChild } from './proc';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHARD_ENTRY = path.join(here, '../gen/shard.ts');

export type ServerKind = 'tandem' | 'better-sse' | 'socketio' | 'bare';
export const ALL_SERVERS: ServerKind[] = ['tandem', 'better-sse', 'socketio', 'bare'];

let cpuPlan: CpuPlan | undefined;
/** The server processes compiled once per run, as shipped JavaScript (lib/build.ts). */
let serversBuild: Promise<string> | undefined;
export function cpus(): CpuPlan {
  cpuPlan ??= planCpus();
  return cpuPlan;
}

export interface ServerHandle {
  kind: ServerKind;
  child: Child;
  port: number;
  streamPath: string;
  pollPath: string;
  /** Client protocol the generator must speak. */
  client: 'sse' | 'sio';
}

export interface ServerStartOptions {
  heartbeatMs?: number;
  redisUrl?: string;
  /** Tandem on the PostgreSQL broker at this URL (S7). */
  databaseUrl?: string;
  cpuProf?: boolean;
  profDir?: string;
}

export async function startServer(kind: ServerKind, options: ServerStartOptions = {}): Promise<ServerHandle> {
  const nodeFlags = ['--expose-gc', '--max-old-space-size=4096'];
  if (options.cpuProf)
    nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${options.profDir ?? 'bench/results/profiles'}`);
  // Extra flags for the servers under test, e.g. BENCH_SERVER_FLAGS=--trace-gc.
  nodeFlags.push(...(process.env.BENCH_SERVER_FLAGS?.split(/\s+/).filter(Boolean) ?? []));
  const env: Record<string, string> = { BENCH_HEARTBEAT_MS: String(options.heartbeatMs ?? 2000) };
  serversBuild ??= buildServers();
  const entry = await serversBuild;
  if (options.redisUrl) env.BENCH_REDIS_URL = options.redisUrl;
  if (options.databaseUrl) env.BENCH_DATABASE_URL = options.databaseUrl;
  const child = await spawnChild(entry, {
    args: [kind],
    cpus: cpus().server,
    env,
    nodeFlags,
    label: `server ${kind}`,
    tsx: false,
  });
  const info = await child.request<{ port: number }>('info');
  return {
    kind,
    child,
    port: info.port,
    streamPath: kind === 'tandem' ? '/live/stream?channels=bench' : '/stream',
    pollPath: '/live/poll?channels=bench',
    client: kind === 'socketio' ? 'sio' : 'sse',
  };
}

export interface ShardReport {
  events: number;
  frames: number;
  pings: number;
  hellos: number;
  resyncs: number;
  notRecovered: number;
  rxBytes: number;
  eventBytes: number;
  requests: number;
  polls: number;
  poll200: number;
  poll304: number;
  pollErrors: number;
  evidencePolls: number;
  pollEvents: number;
  closes: number;
  errors: number;
  reconnects: number;
  retries: number;
  lastResumeAt: number;
  dup: number;
  gapLost: number;
  tailLost: number;
  behind: number;
  open: number;
  latency: HistogramData;
  freshness: HistogramData;
  resumeGap: HistogramData;
  errorSamples: string[];
}

export interface Report extends Omit<ShardReport, 'latency' | 'freshness' | 'resumeGap'> {
  latency: Histogram;
  freshness: Histogram;
  resumeGap: Histogram;
}

export class Generator {
  private constructor(readonly shards: Child[]) {}

  /** CPU seconds all shards have used so far (to tell when the generator is the limit). */
  cpuSeconds(): number {
    return this.shards.reduce((sum, shard) => sum + sampleProcess(shard.pid).cpuSeconds, 0);
  }

  /** Enough shards for `clients` (≤ 5 000 each, so a shard stays far below the fd limit). */
  static async start(clients: number, nodeFlags: string[] = []): Promise<Generator> {
    const n = Math.max(1, Math.ceil(clients / 5000));
    const shards = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        spawnChild(SHARD_ENTRY, {
          cpus: cpus().generator,
          label: `shard ${i}`,
          nodeFlags: ['--max-old-space-size=2048', ...nodeFlags],
        }),
      ),
    );
    return new Generator(shards);
  }

  /**
   * Splits `count` clients over the shards. Shard i connects from 64 source addresses of its
   * own, 127.0.(i+1).2 … 127.0.(i+1).65: each address then holds a few hundred ports, so the
   * kernel's search for a free port at bind() stays cheap even with thousands of sockets in
   * TIME_WAIT after a reconnect storm (with one address per shard it dominated the storm).
   */
  async open(
    server: ServerHandle,
    count: number,
    extra: {
      kind?: 'sse' | 'sio' | 'poll' | 'hybrid';
      track?: boolean;
      reconnect?: boolean;
      pollIntervalMs?: number;
      pollWhileOpen?: boolean;
    } = {},
  ): Promise<{ opened: number; failed: number; ms: number; errors: string[] }> {
    const started = performance.now();
    const parts = this.split(count);
    const results = await Promise.all(
      this.shards.map((shard, i) =>
        parts[i]! === 0
          ? { opened: 0, failed: 0, ms: 0, errors: [] }
          : shard.request<{ opened: number; failed: number; ms: number; errors: string[] }>(
              'open',
              {
                kind: extra.kind ?? server.client,
                host: '127.0.0.1',
                port: server.port,
                path: server.streamPath,
                pollPath: server.pollPath,
                pollIntervalMs: extra.pollIntervalMs,
                pollWhileOpen: extra.pollWhileOpen,
                count: parts[i],
                addresses: Array.from({ length: 64 }, (_, k) => `127.0.${i + 1}.${k + 2}`),
                concurrency: 200,
                track: extra.track ?? false,
                reconnect: extra.reconnect ?? false,
                timeoutMs: 30_000,
              },
              600_000,
            ),
      ),
    );
    return {
      opened: results.reduce((s, r) => s + r.opened, 0),
      failed: results.reduce((s, r) => s + r.failed, 0),
      ms: performance.now() - started,
      errors: results.flatMap((r) => r.errors).slice(0, 5),
    };
  }

  split(count: number): number[] {
    const n = this.shards.length;
    return Array.from({ length: n }, (_, i) => Math.floor(count / n) + (i < count % n ? 1 : 0));
  }

  async all<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs?: number): Promise<T[]> {
    return Promise.all(this.shards.map((s) => s.request<T>(cmd, args, timeoutMs)));
  }

  async reset(): Promise<void> {
    await this.all('reset');
  }

  async report(args: Record<string, unknown> = {}): Promise<Report> {
    const parts = await this.all<ShardReport>('report', args);
    const out = {} as Record<string, unknown>;
    for (const p of parts) {
      for (const [k, v] of Object.entries(p)) {
        if (typeof v === 'number') {
          out[k] = k === 'lastResumeAt' ? Math.max(Number(out[k] ?? 0), v) : Number(out[k] ?? 0) + v;
        }
      }
    }
    return {
      ...(out as unknown as Omit<ShardReport, 'latency' | 'freshness' | 'resumeGap' | 'errorSamples'>),
      errorSamples: parts.flatMap((p) => p.errorSamples).slice(0, 5),
      latency: Histogram.from(parts.map((p) => p.latency)),
      freshness: Histogram.from(parts.map((p) => p.freshness)),
      resumeGap: Histogram.from(parts.map((p) => p.resumeGap)),
    };
  }

  /** Polls the shards until `predicate` holds on the merged report or the deadline passes. */
  async until(predicate: (r: Report) => boolean, timeoutMs: number, everyMs = 200): Promise<Report> {
    const deadline = performance.now() + timeoutMs;
    let r = await this.report();
    while (!predicate(r) && performance.now() < deadline) {
      await sleep(everyMs);
      r = await this.report();
    }
    return r;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.shards.map((s) => s.request('closeAll', {}, 10_000)));
    await Promise.allSettled(this.shards.map((s) => s.stop()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Publishes from inside the server process; resolves when the last event was handed over.
 * `channels`: round robin over these (S10) instead of the one benchmark channel.
 */
export function publish(
  server: ServerHandle,
  rate: number,
  count: number,
  size: number,
  batch = 1,
  channels?: readonly string[],
) {
  return server.child.request<{ published: number; failed: number; firstAt: number; lastAt: number }>(
    'publish',
    { rate, count, size, batch, channels },
    Math.max(120_000, rate > 0 ? (count / rate) * 1000 * 4 + 60_000 : 120_000),
  );
}

/** Events published before a measured window: see `warmUp`. */
export const WARM_UP_EVENTS = 10;

/**
 * Publishes `WARM_UP_EVENTS` events (10/s) and waits until `streams` streams have each seen
 * them, so that the window after it measures a server whose JIT has tiered up, as one in
 * production has: in S3 at 2 000 streams, the first 2–4 events took up to twice as long to
 * reach every client as the rest (max 52–55 against 24–31 ms). Callers reset the generator
 * afterwards.
 */
export async function warmUp(server: ServerHandle, gen: Generator, streams: number, size: number) {
  const pub = await publish(server, 10, WARM_UP_EVENTS, size);
  if (streams > 0) await gen.until((r) => r.events >= pub.published * streams, 15_000);
}

export function sample(server: ServerHandle) {
  return sampleProcess(server.child.pid);
}

export function conditions() {
  const cpusInfo = os.cpus();
  return {
    cpuModel: cpusInfo[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    pinning: cpus().note,
    date: new Date().toISOString(),
  };
}
