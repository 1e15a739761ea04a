/**
 * S5 reconnect storm (Tandem, and the bare loop as a floor without resume): N tracked streams, events at 2/s throughout; every stream is
 * cut at once with `hub.disconnect({})`. Clients reconnect like Tandem's client, with
 * Last-Event-ID. Measured: time from the cut until the last client's hello says `recovered`,
 * events lost (gaps in offsets, or never received), duplicates, and how long `disconnect`
 * itself held the server's event loop.
 */
import { clockMs } from '../lib/clock';
import { Generator, publish, sample, sleep, startServer } from '../lib/harness';
import { listenBacklogCap, tcpCounters } from '../lib/limits';
import { type Context, type Row, round, type ScenarioResult } from './types';

export async function runS5(ctx: Context): Promise<ScenarioResult> {
  const { options } = ctx;
  const clients = options.clients ?? 10_000;
  // Enough events to open gaps during the storm, few enough that fan-out alone does not
  // saturate the server (10/s to 10 000 streams is S3, and takes most of a core here).
  const rate = options.rate ?? 2;
  const duration = options.duration ?? 10;
  const count = Math.round(rate * duration);
  const kinds = (['tandem', 'bare'] as const).filter((k) => options.servers.includes(k));
  const rows: Row[] = [];
  const notes: string[] = [];
  const { pairs } = options;
  // Storms alternate T B B T …: each pair ran side by side in time, on the same machine load.
  const ratios: { time: number; dropsWithin: boolean }[] = [];
  for (let p = 0; p < pairs; p++) {
    const order = p % 2 === 0 ? kinds : [...kinds].reverse();
    const pair: Row[] = [];
    for (const kind of order) {
      const row = await storm(ctx, kind, clients, rate, count, notes);
      if (pairs > 1) row.name = `${kind} #${p + 1}`;
      pair.push(row);
      rows.push(row);
    }
    const tp = pair.find((r) => String(r.name).startsWith('tandem'));
    const bp = pair.find((r) => String(r.name).startsWith('bare'));
    if (tp && bp) {
      ratios.push({
        time: Number(tp.resumeMs) / Number(bp.resumeMs),
        dropsWithin: Number(tp.listenOverflows) <= Number(bp.listenOverflows),
      });
    }
  }
  const t = rows.find((r) => String(r.name).startsWith('tandem'));
  const ratioTargets = ratios.length
    ? [
        {
          label: `all resumed within 1.1× the bare loop's time, accept-queue drops ≤ its, in every pair (${ratios.length})`,
          value: ratios.map((r) => `${round(r.time, 2)}×${r.dropsWithin ? '' : ' (more drops)'}`).join(', '),
          met: ratios.every((r) => r.time <= 1.1 && r.dropsWithin),
        },
      ]
    : [];
  return {
    id: 'S5',
    title: 'Reconnect storm: every connection cut at once',
    params: { clients, rate, duration, events: count, pairs },
    rows,
    columns: [
      ['clients', 'clients'],
      ['resumed', 'resumed'],
      ['disconnectMs', 'disconnect() ms'],
      ['resumeMs', 'all resumed after ms'],
      ['gapP50', 'gap p50 ms'],
      ['gapP99', 'gap p99 ms'],
      ['serverCpuSeconds', 'server CPU-s'],
      ['listenOverflows', 'accept-queue drops'],
      ['synRetrans', 'SYN retransmits'],
      ['lost', 'events lost'],
      ['duplicates', 'duplicates'],
      ['notRecovered', 'not recovered'],
    ],
    targets: t
      ? [
          {
            label: `all ${clients} resumed within 3 s, zero lost`,
            value: `${t.resumed}/${t.cut} in ${t.resumeMs} ms, ${t.lost} lost`,
            met:
              t.resumed === t.cut &&
              t.cut === t.clients &&
              Number(t.resumeMs) <= 3000 &&
              t.lost === 0 &&
              t.notRecovered === 0,
          },
          ...ratioTargets,
        ]
      : [],
    notes: [
      'The clients reconnect as Tandem\'s client does, with its own backoff code: after the bye (or drop), the first return is spread uniformly over the 2 s drop window, failed attempts back off over 100 ms × 1.3ⁿ (cap 2 s, full jitter); Tandem\'s clients send Last-Event-ID. "resumed" counts hellos with recovered=true after the cut (for the bare floor, which has no resume: streams answered again); "gap" is each client\'s time from its drop to that moment, the 2 s spread included.',
      `The kernel caps a listen backlog at ${listenBacklogCap()} (net.core.somaxconn) here; returning clients beyond a full accept queue are dropped and retry their SYN after 1 s, 3 s, 7 s… ("accept-queue drops", "SYN retransmits": counters of the whole network namespace over the storm).`,
      ...notes,
    ],
  };
}

async function storm(
  ctx: Context,
  kind: 'tandem' | 'bare',
  clients: number,
  rate: number,
  count: number,
  notes: string[],
): Promise<Row> {
  const track = kind === 'tandem';
  const server = await startServer(kind, { cpuProf: ctx.options.cpuProf });
  const gen = await Generator.start(clients);
  const now = clockMs;
  try {
    const o = await gen.open(server, clients, { track, reconnect: true });
    ctx.log(`S5 ${kind}: ${o.opened} open in ${Math.round(o.ms)} ms`);
    if (o.failed > 0) notes.push(`${kind}: ${o.failed} initial connections failed: ${o.errors[0] ?? ''}`);
    await sleep(1000);
    await gen.reset();
    const publishing = publish(server, rate, count, ctx.options.size);
    await sleep(Math.min(3000, (count / rate) * 333));
    const tcp0 = tcpCounters();
    const cpu0 = sample(server);
    const cutAt = now();
    const cut = await server.child.request<number>('disconnect');
    const disconnectMs = clockMs() - cutAt;
    const resumed = await gen.until((r) => r.reconnects >= cut, 30_000, 100);
    const cpu1 = sample(server);
    const resumeMs = resumed.reconnects >= cut ? resumed.lastResumeAt - cutAt : Number.NaN;
    ctx.log(`S5 ${kind}: cut ${cut}, ${resumed.reconnects} back, last after ${round(resumeMs)} ms`);
    const pub = await publishing;
    if (track) await gen.all('waitFor', { offset: pub.published, timeoutMs: 15_000 }, 30_000);
    const rep = await gen.report(track ? { finalOffset: pub.published } : {});
    const tcp1 = tcpCounters();
    if (rep.errorSamples.length > 0)
      notes.push(`${kind}: generator errors (sample): ${rep.errorSamples.slice(0, 2).join('; ')}`);
    return {
      name: kind,
      clients: o.opened,
      cut,
      resumed: rep.reconnects,
      disconnectMs: round(disconnectMs, 0),
      resumeMs: round(resumeMs, 0),
      gapP50: round(rep.resumeGap.quantileMs(0.5), 0),
      gapP99: round(rep.resumeGap.quantileMs(0.99), 0),
      serverCpuSeconds: round(cpu1.cpuSeconds - cpu0.cpuSeconds, 2),
      listenOverflows: tcp1.listenOverflows - tcp0.listenOverflows,
      synRetrans: tcp1.synRetrans - tcp0.synRetrans,
      retries: rep.retries,
      lost: track ? rep.gapLost + rep.tailLost : null,
      duplicates: track ? rep.dup : null,
      notRecovered: track ? rep.notRecovered : null,
      resyncs: track ? rep.resyncs : null,
      // The storm's window in the benchmark clock, to cut a --cpu-prof profile to it.
      stormFromMs: round(cutAt, 1),
      stormToMs: round(cutAt + (Number.isNaN(resumeMs) ? 30_000 : resumeMs), 1),
    };
  } finally {
    await gen.stop();
    await server.child.stop();
  }
}
