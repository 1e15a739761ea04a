/**
 * S7 the Redis hop: Tandem with the memory broker, then with the Redis broker (a private
 * redis-server on the server's core), N subscribers, events at a fixed rate. Added latency is
 * Redis minus memory at p50 and p99; Redis CPU per 10 000 deliveries from /proc.
 */
import { cpus, Generator, publish, sample, sleep, startServer, warmUp } from '../lib/harness';
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
  try {
    // Alternating runs (memory, redis, memory, redis) so that a change in the machine's load
    // during the scenario does not land on one broker only.
    const order = ['memory', 'redis', 'memory', 'redis'] as const;
    for (const [run, broker] of order.entries()) {
      const server = await startServer('tandem', {
        cpuProf: options.cpuProf,
        ...(broker === 'redis' ? { redisUrl: redis.url } : {}),
      });
      const gen = await Generator.start(clients);
      try {
        const o = await gen.open(server, clients);
        if (o.failed > 0) notes.push(`${broker}: ${o.failed} connections failed: ${o.errors[0] ?? ''}`);
        await sleep(1000);
        await warmUp(server, gen, o.opened, options.size);
        await gen.reset();
        const a = sample(server);
        const ra = sampleProcess(redis.pid);
        const pub = await publish(server, rate, count, options.size);
        const expected = (pub.published - pub.failed) * o.opened;
        const rep = await gen.until((r) => r.events >= expected, 20_000);
        const b = sample(server);
        const rb = sampleProcess(redis.pid);
        const l = rep.latency.summary();
        const redisCpu = broker === 'redis' ? rb.cpuSeconds - ra.cpuSeconds : Number.NaN;
        ctx.log(`S7 ${broker}: p50 ${round(l.p50)} p99 ${round(l.p99)} ms`);
        rows.push({
          name: `tandem + ${broker} #${Math.floor(run / 2) + 1}`,
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
          redisCpuMsPer10k:
            broker === 'redis' ? round((redisCpu * 1000 * 10_000) / Math.max(1, rep.events), 3) : null,
        });
      } finally {
        await gen.stop();
        await server.child.stop();
      }
    }
  } finally {
    await redis.stop();
  }
  const mean = (broker: string, key: string) => {
    const values = rows.filter((r) => r.broker === broker).map((r) => Number(r[key]));
    return values.reduce((a, b) => a + b, 0) / values.length;
  };
  const addP50 = round(mean('redis', 'p50') - mean('memory', 'p50'), 2);
  const addP99 = round(mean('redis', 'p99') - mean('memory', 'p99'), 2);
  const redisCpu = round(mean('redis', 'redisCpuMsPer10k'), 3);
  return {
    id: 'S7',
    title: 'The Redis hop: added latency and Redis CPU',
    params: { clients, rate, duration, size: options.size },
    rows,
    columns: [
      ['clients', 'clients'],
      ['complete', 'complete %'],
      ['p50', 'p50 ms'],
      ['p99', 'p99 ms'],
      ['max', 'max ms'],
      ['serverCpuSeconds', 'hub CPU-s'],
      ['redisCpuMsPer10k', 'Redis CPU ms / 10k deliveries'],
    ],
    targets: [
      {
        label:
          'Redis hop: added latency p50 / p99 (mean of 2 alternating runs each), Redis CPU per 10k deliveries',
        value: `${addP50} / ${addP99} ms, ${redisCpu} ms`,
        met: true,
      },
    ],
    notes: [
      ...notes,
      'One Redis subscription per hub process: Redis work grows with publishes, not with subscribers, so "per 10 000 deliveries" falls as the audience grows. redis-server runs without persistence, pinned with the hub.',
    ],
  };
}
