/**
 * S2 fan-out throughput: one channel, N subscribers, events of `size` bytes published at a
 * fixed rate; deliveries per server CPU-second from the server's CPU time between the first
 * publish and the last delivery, and bytes per delivery. Tandem's streams ask for the compact
 * wire, as Tandem's client does; `tandem-classic` is the same hub sending the classic frames
 * (what a native EventSource gets).
 */
import { Generator, publish, type ServerKind, sample, sleep, startServer, warmUp } from '../lib/harness';
import { type Context, type Row, round, type ScenarioResult } from './types';

export async function runS2(ctx: Context): Promise<ScenarioResult> {
  const { options } = ctx;
  const clients = options.clients ?? 1000;
  const rate = options.rate ?? 50;
  const duration = options.duration ?? 6;
  const count = Math.round(rate * duration);
  const rows: Row[] = [];
  const notes: string[] = [];
  const runs = (options.servers as ServerKind[]).flatMap(
    (kind): { name: string; kind: ServerKind; query: string }[] =>
      kind === 'tandem'
        ? [
            { name: 'tandem', kind, query: '&wire=compact' },
            { name: 'tandem-classic', kind, query: '' },
          ]
        : [{ name: kind as string, kind, query: '' }],
  );
  for (const { name, kind, query } of runs) {
    const started = await startServer(kind, { cpuProf: options.cpuProf });
    const server = { ...started, streamPath: started.streamPath + query };
    const gen = await Generator.start(clients);
    try {
      const o = await gen.open(server, clients);
      if (o.failed > 0)
        notes.push(`${name}: ${o.failed} of ${clients} connections failed: ${o.errors[0] ?? ''}`);
      await sleep(1000);
      await warmUp(server, gen, o.opened, options.size);
      await gen.reset();
      const a = sample(server);
      const pub = await publish(server, rate, count, options.size, options.batch);
      const expected = pub.published * o.opened;
      const rep = await gen.until((r) => r.events >= expected, 30_000);
      const b = sample(server);
      const cpu = b.cpuSeconds - a.cpuSeconds;
      const wall = (b.at - a.at) / 1000;
      const system = b.systemSeconds - a.systemSeconds;
      ctx.log(
        `S2 ${name}: ${rep.events}/${expected} deliveries, ${round(cpu)} CPU-s (${round(system)} in the kernel)`,
      );
      rows.push({
        name,
        clients: o.opened,
        events: pub.published,
        deliveries: rep.events,
        complete: round((rep.events / expected) * 100, 3),
        cpuSeconds: round(cpu, 2),
        systemSeconds: round(system, 2),
        wallSeconds: round(wall, 2),
        deliveriesPerCpuSecond: Math.round(rep.events / cpu),
        p99ms: round(rep.latency.quantileMs(0.99), 1),
        rxMiB: round(rep.rxBytes / 2 ** 20, 1),
        cpuUsPerDelivery: round((cpu * 1e6) / rep.events, 2),
        bytesPerDelivery: round(rep.rxBytes / rep.events, 1),
      });
    } finally {
      await gen.stop();
      await server.child.stop();
    }
  }
  const perCpu = (name: string) =>
    Number(rows.find((r) => r.name === name)?.deliveriesPerCpuSecond ?? Number.NaN);
  const t = perCpu('tandem');
  const ratios: Record<string, number> = {};
  for (const r of rows) if (r.name !== 'tandem') ratios[r.name] = round(t / perCpu(r.name), 2);
  const bytes = (name: string) => Number(rows.find((r) => r.name === name)?.bytesPerDelivery ?? Number.NaN);
  const targets = [];
  if ('better-sse' in ratios)
    targets.push({
      label: '≥ 2× better-sse',
      value: `${ratios['better-sse']}×`,
      met: ratios['better-sse']! >= 2,
    });
  if ('socketio' in ratios)
    targets.push({ label: '≥ 3× socket.io', value: `${ratios.socketio}×`, met: ratios.socketio! >= 3 });
  if ('bare' in ratios) {
    const behind = 1 / ratios.bare!;
    targets.push({
      label: 'within 1.3× of the bare loop',
      value: `bare is ${round(behind, 2)}× Tandem`,
      met: behind <= 1.3,
    });
    targets.push({
      label: "CPU per delivery ≤ 1.05× the bare loop's",
      value: `${round(behind, 2)}×`,
      met: behind <= 1.05,
    });
    const byteRatio = bytes('tandem') / bytes('bare');
    targets.push({
      label: "bytes per delivery ≤ 1.3× the bare loop's",
      value: `${round(byteRatio, 2)}× (${bytes('tandem')} against ${bytes('bare')} B; classic frames ${bytes('tandem-classic')} B)`,
      met: byteRatio <= 1.3,
    });
  }
  return {
    id: 'S2',
    title: 'Fan-out throughput: deliveries per server CPU-second',
    params: { clients, rate, duration, size: options.size, events: count, batch: options.batch },
    rows,
    columns: [
      ['clients', 'clients'],
      ['deliveries', 'deliveries'],
      ['complete', 'complete %'],
      ['cpuSeconds', 'CPU-s'],
      ['systemSeconds', 'of it kernel'],
      ['deliveriesPerCpuSecond', 'deliveries/CPU-s'],
      ['p99ms', 'p99 ms'],
      ['rxMiB', 'MiB sent'],
      ['cpuUsPerDelivery', 'CPU µs/delivery'],
      ['bytesPerDelivery', 'B/delivery'],
    ],
    targets,
    ratios,
    notes: [
      ...notes,
      'Each library frames the same payload its own way: Tandem on the compact wire adds a channel id, offset and ts (tandem-classic: an id with the cursor and an envelope with channel, offset, epoch, ts), socket.io its packet prefix; "MiB sent" and "B/delivery" (everything the clients read, HTTP framing and heartbeats included) show the difference.',
    ],
  };
}
