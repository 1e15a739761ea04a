/**
 * S6 hybrid vs polling only: N clients over a window at 1 event/s against Tandem, in three
 * modes — hybrid (stream open + a poll every 10 s, as Tandem's client does while connected),
 * polling every 3 s, polling every 1 s. Each mode gets a fresh server process. Server CPU,
 * requests and bytes are counted over the window only; stream connects happen before it.
 */
import { POLL_DEFAULTS } from '../../packages/tandem/src/client/poll-schedule';
import { Generator, publish, sample, sleep, startServer, warmUp } from '../lib/harness';
import { type Context, type Row, round, type ScenarioResult } from './types';

interface Mode {
  name: string;
  kind: 'hybrid' | 'poll';
  intervalMs: number;
  /** Streams only, no safety poll: the floor under hybrid mode, not a mode the client has. */
  noPoll?: boolean;
  /** Polls against the bare loop's `/poll`, a 304 responder: what a request costs at that rate. */
  bare?: boolean;
}

export async function runS6(ctx: Context): Promise<ScenarioResult> {
  const { options } = ctx;
  const clients = options.clients ?? 2000;
  const duration = options.duration ?? 10;
  const modes: Mode[] = [
    {
      name: `hybrid (stream + poll ${POLL_DEFAULTS.openIntervalMs / 1000} s)`,
      kind: 'hybrid',
      intervalMs: POLL_DEFAULTS.openIntervalMs,
    },
    {
      name: `poll every ${POLL_DEFAULTS.closedIntervalMs / 1000} s`,
      kind: 'poll',
      intervalMs: POLL_DEFAULTS.closedIntervalMs,
    },
    { name: 'poll every 1 s', kind: 'poll', intervalMs: 1000 },
    { name: 'stream only (no poll), floor', kind: 'hybrid', intervalMs: 0, noPoll: true },
    {
      name: `bare 304 every ${POLL_DEFAULTS.openIntervalMs / 1000} s, floor`,
      kind: 'poll',
      intervalMs: POLL_DEFAULTS.openIntervalMs,
      bare: true,
    },
    { name: 'bare 304 every 1 s, floor', kind: 'poll', intervalMs: 1000, bare: true },
    {
      name: `bare streams + 304 every ${POLL_DEFAULTS.openIntervalMs / 1000} s, floor`,
      kind: 'hybrid',
      intervalMs: POLL_DEFAULTS.openIntervalMs,
      bare: true,
    },
  ];
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const mode of modes) {
    const server = await startServer(mode.bare ? 'bare' : 'tandem', { cpuProf: options.cpuProf });
    const gen = await Generator.start(clients);
    try {
      const o = await gen.open(server, clients, {
        kind: mode.kind,
        // The bare loop's streams have no hello or cursor to follow.
        track: mode.kind === 'hybrid' && !mode.bare,
        pollIntervalMs: mode.intervalMs,
      });
      if (o.failed > 0) notes.push(`${mode.name}: ${o.failed} connections failed: ${o.errors[0] ?? ''}`);
      await sleep(1000);
      // Pollers start after the warm-up, from the head: they never see its events.
      await warmUp(server, gen, mode.kind === 'hybrid' ? o.opened : 0, options.size);
      await gen.reset();
      const a = sample(server);
      const genA = gen.cpuSeconds();
      if (!mode.noPoll) await gen.all('startPolling', { durationMs: duration * 1000 });
      const pub = await publish(server, 1, duration, options.size);
      await sleep(1500);
      const b = sample(server);
      const genCpu = gen.cpuSeconds() - genA;
      await gen.all('stopPolling');
      const rep = await gen.report();
      const fresh = mode.kind === 'hybrid' ? rep.latency : rep.freshness;
      const cpu = b.cpuSeconds - a.cpuSeconds;
      const system = b.systemSeconds - a.systemSeconds;
      const helpers = b.helperSeconds - a.helperSeconds;
      ctx.log(
        `S6 ${mode.name}: ${round(cpu)} CPU-s (${round(system)} in the kernel, ${round(helpers)} in helper threads), ${rep.requests} requests, p99 ${round(fresh.quantileMs(0.99))} ms`,
      );
      rows.push({
        name: mode.name,
        clients: o.opened,
        events: pub.published,
        cpuSeconds: round(cpu, 2),
        systemSeconds: round(system, 2),
        helperSeconds: round(helpers, 2),
        requests: rep.requests,
        notModified: rep.poll304,
        mib: round(rep.rxBytes / 2 ** 20, 2),
        freshP50: round(fresh.quantileMs(0.5), 1),
        freshP99: round(fresh.quantileMs(0.99), 1),
        received: fresh.count,
        generatorCpuPct: round((genCpu / ((b.at - a.at) / 1000)) * 100, 0),
        pollErrors: rep.pollErrors,
      });
      if (rep.errorSamples.length > 0) notes.push(`${mode.name}: ${rep.errorSamples[0]}`);
    } finally {
      await gen.stop();
      await server.child.stop();
    }
  }
  const [hybrid, poll3, poll1, streamOnly] = rows as [Row, Row, Row, Row];
  // CPU per request: a poller's whole CPU, or what hybrid spends above its streams alone. The
  // bare loop's streams and polls share one figure that cannot be separated.
  modes.forEach((mode, i) => {
    const row = rows[i]!;
    const above = row === hybrid ? Number(streamOnly.cpuSeconds) : 0;
    const requests = Number(row.requests);
    const mixed = mode.bare === true && mode.kind === 'hybrid';
    row.usPerRequest =
      requests > 0 && !mixed ? round(((Number(row.cpuSeconds) - above) / requests) * 1e6, 0) : null;
  });
  const cpuShare = Number(hybrid.cpuSeconds) / Number(poll1.cpuSeconds);
  return {
    id: 'S6',
    title: 'Hybrid (stream + 10 s poll) vs polling only',
    params: { clients, duration, rate: 1, size: options.size },
    rows,
    columns: [
      ['cpuSeconds', 'server CPU-s'],
      ['systemSeconds', 'of it kernel'],
      ['helperSeconds', 'of it GC threads'],
      ['requests', 'requests'],
      ['usPerRequest', 'µs CPU / request'],
      ['notModified', '304s'],
      ['mib', 'MiB sent'],
      ['freshP50', 'fresh p50 ms'],
      ['freshP99', 'fresh p99 ms'],
      ['received', 'events seen'],
      ['generatorCpuPct', 'generator CPU %'],
    ],
    targets: [
      {
        label: '≤ 7 % of the CPU of polling every 1 s',
        value: `${round(cpuShare * 100, 1)} %`,
        met: cpuShare <= 0.07,
      },
      {
        label: 'hybrid freshness p99 ≤ 50 ms',
        value: `${hybrid.freshP99} ms`,
        met: Number(hybrid.freshP99) <= 50,
      },
    ],
    ratios: {
      'poll every 3 s': round(Number(poll3.cpuSeconds) / Number(hybrid.cpuSeconds), 2),
      'poll every 1 s': round(1 / cpuShare, 2),
    },
    notes: [
      ...notes,
      `The floors are not modes of the client. "stream only": the same streams with no safety poll, ${round((Number(streamOnly.cpuSeconds) / Number(poll1.cpuSeconds)) * 100, 1)} % of the CPU of polling every 1 s; what hybrid spends above it is its 10 s poll ("µs CPU / request" of hybrid counts only that part). "bare 304": node:http answering 304 without looking at the request, at the request rates of hybrid's poll and of 1 s polling: what a request costs at that rate before any library code, wake-ups of an otherwise idle server included. "bare streams + 304": the bare loop's streams with the same events and the same 10 s poll schedule, hybrid's floor as a whole (its CPU per request is not separable from its streams').`,
      "The intervals are the client's defaults (client/poll-schedule.ts). Pollers keep their connection alive (server keep-alive 75 s), send the cursor and If-None-Match, and start at a random phase. Freshness: publish → the event reaching the client, by stream (hybrid) or by the poll that returned it.",
    ],
  };
}
