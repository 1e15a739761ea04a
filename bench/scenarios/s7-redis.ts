/**
 * S7 the broker hop: Tandem with the memory broker, the Redis broker (a private redis-server on
 * the server's core) and the PostgreSQL broker (a private PostgreSQL, likewise), N subscribers,
 * events at a fixed rate. Added latency is each broker minus memory at p50 and p99; the
 * database's CPU per 10 000 deliveries from /proc. Then PostgreSQL alone: publishes made inside
 * the app's transactions per second, on one channel and across channels.
 */
import { cpus, Generator, publish, sample, sleep, startServer, warmUp } from '../lib/harness';
import { startBenchPostgres, transactionThroughput } from '../lib/postgres';
import { sampleProcess } from '../lib/proc';
import { startRedis } from '../lib/redis';
import { type Context, type Row, round, type ScenarioResult } from './types';

export async function runS7(ctx: Context): Promise<ScenarioResult> {
  const { options } = ctx;
  const clients = options.clients ?? 1000;
  const rate = options.rate ?? 10;
  const duration = options.duration ?? 6;
  const count = Math.round(rate * duration);
  const rows: Row[] = [];
  const notes: string[] = [];
  const redis = await startRedis(cpus().server);
  const postgres = await startBenchPostgres(cpus().server);
  const dbCpu = (broker: string) =>
    broker === 'redis'
      ? sampleProcess(redis.pid).cpuSeconds
      : broker === 'postgres'
        ? postgres.cpuSeconds()
        : 0;
  const throughput: { label: string; perSecond: number; dbCpuMsPer1k: number }[] = [];
  try {
    // Alternating runs (memory, redis, postgres, memory, …) so that a change in the machine's
    // load during the scenario does not land on one broker only.
    const order = ['memory', 'redis', 'postgres', 'memory', 'redis', 'postgres'] as const;
    for (const [run, broker] of order.entries()) {
      const server = await startServer('tandem', {
        cpuProf: options.cpuProf,
        ...(broker === 'redis' ? { redisUrl: redis.url } : {}),
        ...(broker === 'postgres' ? { databaseUrl: postgres.url } : {}),
      });
      const gen = await Generator.start(clients);
      try {
        const o = await gen.open(server, clients);
        if (o.failed > 0) notes.push(`${broker}: ${o.failed} connections failed: ${o.errors[0] ?? ''}`);
        await sleep(1000);
        await warmUp(server, gen, o.opened, options.size);
        await gen.reset();
        const a = sample(server);
        const da = dbCpu(broker);
        const pub = await publish(server, rate, count, options.size);
        const expected = (pub.published - pub.failed) * o.opened;
        const rep = await gen.until((r) => r.events >= expected, 20_000);
        const b = sample(server);
        const db = dbCpu(broker) - da;
        const l = rep.latency.summary();
        ctx.log(`S7 ${broker}: p50 ${round(l.p50)} p99 ${round(l.p99)} ms`);
        rows.push({
          name: `tandem + ${broker} #${Math.floor(run / 3) + 1}`,
          broker,
          clients: o.opened,
          published: pub.published,
          failed: pub.failed,
          deliveries: rep.events,
          complete: round((rep.events / Math.max(1, pub.published * o.opened)) * 100, 3),
          p50: round(l.p50, 2),
          p99: round(l.p99, 2),
          max: round(l.max, 2),
          serverCpuSeconds: round(b.cpuSeconds - a.cpuSeconds, 2),
          dbCpuMsPer10k:
            broker === 'memory' ? null : round((db * 1000 * 10_000) / Math.max(1, rep.events), 3),
        });
      } finally {
        await gen.stop();
        await server.child.stop();
      }
    }
    // Publishes inside transactions (begin, insert, publish, commit), 8 connections, 3 s each.
    for (const [label, channels] of [
      ['one channel', 1],
      ['8 channels', 8],
    ] as const) {
      const t = await transactionThroughput(postgres, 8, channels, 3);
      ctx.log(`S7 postgres transactions on ${label}: ${round(t.perSecond)}/s`);
      throughput.push({ label, perSecond: t.perSecond, dbCpuMsPer1k: t.dbCpuMsPer1k });
    }
  } finally {
    await redis.stop();
    await postgres.stop();
  }
  const mean = (broker: string, key: string) => {
    const values = rows.filter((r) => r.broker === broker).map((r) => Number(r[key]));
    return values.reduce((a, b) => a + b, 0) / values.length;
  };
  const added = (broker: string) =>
    `${round(mean(broker, 'p50') - mean('memory', 'p50'), 2)} / ${round(mean(broker, 'p99') - mean('memory', 'p99'), 2)} ms, ${round(mean(broker, 'dbCpuMsPer10k'), 3)} ms`;
  return {
    id: 'S7',
    title: 'The broker hop: added latency and database CPU (Redis, PostgreSQL)',
    params: { clients, rate, duration, size: options.size },
    rows,
    columns: [
      ['clients', 'clients'],
      ['complete', 'complete %'],
      ['p50', 'p50 ms'],
      ['p99', 'p99 ms'],
      ['max', 'max ms'],
      ['serverCpuSeconds', 'hub CPU-s'],
      ['dbCpuMsPer10k', 'database CPU ms / 10k deliveries'],
    ],
    targets: [
      {
        label:
          'Redis hop: added latency p50 / p99 (mean of 2 alternating runs each), Redis CPU per 10k deliveries',
        value: added('redis'),
        met: true,
      },
      {
        label:
          'PostgreSQL hop: added latency p50 / p99 (mean of 2 alternating runs each), PostgreSQL CPU per 10k deliveries',
        value: added('postgres'),
        met: true,
      },
      ...throughput.map((t) => ({
        label: `PostgreSQL: publishes inside transactions (begin, insert, publish, commit; 8 connections) on ${t.label}`,
        value: `${round(t.perSecond)}/s, ${round(t.dbCpuMsPer1k, 1)} ms PostgreSQL CPU per 1 000`,
        met: true,
      })),
    ],
    notes: [
      ...notes,
      'One Redis subscription (one LISTEN connection) per hub process: database work grows with publishes, not with subscribers, so "per 10 000 deliveries" falls as the audience grows. redis-server runs without persistence, PostgreSQL with fsync off (WAL written, not flushed), both pinned with the hub.',
    ],
  };
}
