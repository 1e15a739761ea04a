/**
 * S3 latency (10 events/s to N subscribers, publish→receive) and S4 burst (`burst` events
 * published at once to the same subscribers). They share one server and one set of
 * connections per library when both run, to spare a second 10 000-connection ramp.
 */
import { Generator, publish, type ServerKind, sample, sleep, startServer, warmUp } from '../lib/harness';
import { type Context, type Row, round, type ScenarioResult } from './types';

export async function runS3S4(ctx: Context, which: { s3: boolean; s4: boolean }): Promise<ScenarioResult[]> {
  const { options } = ctx;
  const clients = options.clients ?? 10_000;
  const rate = options.rate ?? 10;
  const duration = options.duration ?? 6;
  const burst = options.burst;
  const s3: Row[] = [];
  const s4: Row[] = [];
  const notes: string[] = [];
  for (const kind of options.servers as ServerKind[]) {
    const server = await startServer(kind, { cpuProf: options.cpuProf });
    const gen = await Generator.start(clients);
    try {
      const o = await gen.open(server, clients);
      ctx.log(`S3/S4 ${kind}: ${o.opened} open in ${Math.round(o.ms)} ms`);
      if (o.failed > 0)
        notes.push(`${kind}: ${o.failed} of ${clients} connections failed: ${o.errors[0] ?? ''}`);
      await sleep(2000);
      await warmUp(server, gen, o.opened, options.size);
      if (which.s3) {
        await gen.reset();
        const a = sample(server);
        const genA = gen.cpuSeconds();
        const pub = await publish(server, rate, Math.round(rate * duration), options.size);
        const expected = pub.published * o.opened;
        const rep = await gen.until((r) => r.events >= expected, 20_000);
        const b = sample(server);
        const genCpu = gen.cpuSeconds() - genA;
        const l = rep.latency.summary();
        const seconds = (pub.lastAt - pub.firstAt) / 1000;
        ctx.log(`S3 ${kind}: p50 ${round(l.p50)} p99 ${round(l.p99)} max ${round(l.max)} ms`);
        s3.push({
          name: kind,
          clients: o.opened,
          deliveries: rep.events,
          complete: round((rep.events / expected) * 100, 3),
          p50: round(l.p50),
          p90: round(l.p90),
          p99: round(l.p99),
          max: round(l.max),
          // Below the asked rate when the server could not keep up (one event per macrotask).
          achievedRate: round(seconds > 0 ? (pub.published - 1) / seconds : Number.NaN, 1),
          serverCpuPct: round(((b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000)) * 100, 0),
          generatorCpuPct: round((genCpu / ((b.at - a.at) / 1000)) * 100, 0),
        });
        await sleep(1000);
      }
      if (which.s4) {
        await gen.reset();
        const pub = await publish(server, 0, burst, options.size);
        const expected = pub.published * o.opened;
        const rep = await gen.until((r) => r.events >= expected, 30_000);
        const l = rep.latency.summary();
        ctx.log(`S4 ${kind}: ${rep.events}/${expected}, p99 ${round(l.p99)} ms`);
        s4.push({
          name: kind,
          clients: o.opened,
          deliveries: rep.events,
          complete: round((rep.events / expected) * 100, 3),
          p50: round(l.p50),
          p99: round(l.p99),
          max: round(l.max),
          drops: rep.closes,
        });
      }
    } finally {
      await gen.stop();
      await server.child.stop();
    }
  }
  const out: ScenarioResult[] = [];
  const ratio = (rows: Row[], key: string) => {
    const t = Number(rows.find((r) => r.name === 'tandem')?.[key]);
    const r: Record<string, number> = {};
    for (const row of rows) if (row.name !== 'tandem') r[row.name] = round(Number(row[key]) / t, 2);
    return r;
  };
  const commonNotes = [
    'Latency is publish call → the generator reading the frame, one clock for both processes (CLOCK_MONOTONIC via process.hrtime, shared machine-wide). It includes the generator draining its sockets one after another on its core.',
  ];
  if (which.s3) {
    const t = s3.find((r) => r.name === 'tandem');
    out.push({
      id: 'S3',
      title: 'Latency: publish → receive',
      params: { clients, rate, duration, size: options.size },
      rows: s3,
      columns: [
        ['clients', 'clients'],
        ['complete', 'complete %'],
        ['p50', 'p50 ms'],
        ['p90', 'p90 ms'],
        ['p99', 'p99 ms'],
        ['max', 'max ms'],
        ['achievedRate', 'events/s'],
        ['serverCpuPct', 'server CPU %'],
        ['generatorCpuPct', 'generator CPU %'],
      ],
      targets: [
        { label: `p99 ≤ 20 ms at ${clients} subscribers`, value: `${t?.p99} ms`, met: Number(t?.p99) <= 20 },
      ],
      ratios: ratio(s3, 'p99'),
      notes: [...notes, ...commonNotes, 'ratios: peer p99 / Tandem p99 (higher is better for Tandem).'],
    });
  }
  if (which.s4) {
    const t = s4.find((r) => r.name === 'tandem');
    out.push({
      id: 'S4',
      title: `Burst: ${burst} events at once`,
      params: { clients, burst, size: options.size },
      rows: s4,
      columns: [
        ['clients', 'clients'],
        ['deliveries', 'deliveries'],
        ['complete', 'complete %'],
        ['p50', 'p50 ms'],
        ['p99', 'p99 ms'],
        ['max', 'max ms'],
        ['drops', 'dropped conns'],
      ],
      targets: [{ label: 'complete (100 %)', value: `${t?.complete} %`, met: Number(t?.complete) >= 100 }],
      ratios: ratio(s4, 'p99'),
      notes: [...notes, ...commonNotes],
    });
  }
  return out;
}
