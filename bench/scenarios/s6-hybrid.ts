/**
 * S6 hybrid vs polling only: N clients over a window at `rate` events/s (1 by default; 0.1 is
 * "one event per 10 s per client") against Tandem. Modes: hybrid as Tandem's client runs it
 * (stream open, heartbeats with heads, a poll only when a heartbeat shows the client behind),
 * hybrid with the periodic poll while open (`poll.whileOpen`, every 10 s), polling every 3 s
 * and every 1 s. Floors: the bare loop's streams with the same heartbeat (what any stream costs
 * at least), and the bare 304 responder polled every 1 s (what any poll costs at least). At a
 * slow rate, a what-if row: hybrid with 10 s heartbeats (what the 2 s heartbeat costs). Each
 * mode gets a fresh server process. Server CPU, requests and bytes are counted over the window
 * only; stream connects happen before it.
 */
import { POLL_DEFAULTS } from '../../packages/tandem/src/client/poll-schedule';
import { Generator, publish, sample, sleep, startServer, warmUp } from '../lib/harness';
import { type Context, type Row, round, type ScenarioResult } from './types';

interface Mode {
  name: string;
  kind: 'hybrid' | 'poll';
  /** Poll interval of pollers; for hybrid clients only with `whileOpen`. */
  intervalMs: number;
  /** Hybrid clients poll on a timer while the stream is open (the client's `poll.whileOpen`). */
  whileOpen?: boolean;
  /** The bare loop: its streams (no hello, no heads), or its `/poll`, a 304 responder. */
  bare?: boolean;
  /** The server's heartbeat, if not the default 2 s. */
  heartbeatMs?: number;
}

const HEARTBEAT_MS = 2000;

export async function runS6(ctx: Context): Promise<ScenarioResult> {
  const { options } = ctx;
  const clients = options.clients ?? 2000;
  const duration = options.duration ?? 10;
  const rate = options.rate ?? 1;
  const slow = rate < 1;
  const modes: Mode[] = [
    { name: 'hybrid (stream, polls on evidence)', kind: 'hybrid', intervalMs: 0 },
    {
      name: `hybrid + poll every ${POLL_DEFAULTS.openIntervalMs / 1000} s (whileOpen)`,
      kind: 'hybrid',
      intervalMs: POLL_DEFAULTS.openIntervalMs,
      whileOpen: true,
    },
    {
      name: `poll every ${POLL_DEFAULTS.closedIntervalMs / 1000} s`,
      kind: 'poll',
      intervalMs: POLL_DEFAULTS.closedIntervalMs,
    },
    { name: 'poll every 1 s', kind: 'poll', intervalMs: 1000 },
    { name: 'bare streams, same heartbeat, floor', kind: 'hybrid', intervalMs: 0, bare: true },
    { name: 'bare 304 every 1 s, floor', kind: 'poll', intervalMs: 1000, bare: true },
  ];
  if (slow) {
    modes.push({
      name: 'hybrid, 10 s heartbeats (what-if)',
      kind: 'hybrid',
      intervalMs: 0,
      heartbeatMs: 10_000,
    });
  }
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const mode of modes) {
    const server = await startServer(mode.bare ? 'bare' : 'tandem', {
      cpuProf: options.cpuProf,
      heartbeatMs: mode.heartbeatMs ?? HEARTBEAT_MS,
    });
    const gen = await Generator.start(clients);
    try {
      const o = await gen.open(server, clients, {
        kind: mode.kind,
        // The bare loop's streams have no hello or cursor to follow.
        track: mode.kind === 'hybrid' && !mode.bare,
        pollIntervalMs: mode.intervalMs,
        pollWhileOpen: mode.whileOpen ?? false,
      });
      if (o.failed > 0) notes.push(`${mode.name}: ${o.failed} connections failed: ${o.errors[0] ?? ''}`);
      await sleep(1000);
      // Pollers start after the warm-up, from the head: they never see its events.
      await warmUp(server, gen, mode.kind === 'hybrid' ? o.opened : 0, options.size);
      await gen.reset();
      const a = sample(server);
      const genA = gen.cpuSeconds();
      await gen.all('startPolling', { durationMs: duration * 1000 });
      const pub = await publish(server, rate, Math.max(1, Math.round(rate * duration)), options.size);
      // A slow rate's last event may come well before the window ends: wait it out.
      await sleep(Math.max(0, duration * 1000 - (pub.lastAt - pub.firstAt)));
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
        evidencePolls: rep.evidencePolls,
        pings: rep.pings,
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
  const [hybrid, hybridPoll, poll3, poll1, bareStreams, bare1] = rows as [Row, Row, Row, Row, Row, Row];
  const cpu = (row: Row) => Number(row.cpuSeconds);
  const share = (row: Row) => cpu(row) / cpu(poll1);
  // CPU per request: a poller's whole CPU; for hybrid with whileOpen, what it spends above the
  // hybrid that polls on evidence (the same streams, heartbeats and events).
  rows.forEach((row) => {
    const above = row === hybridPoll ? cpu(hybrid) : 0;
    const requests = Number(row.requests);
    const pollRow = modes[rows.indexOf(row)]!.kind === 'poll' || row === hybridPoll;
    row.usPerRequest = requests > 0 && pollRow ? round(((cpu(row) - above) / requests) * 1e6, 0) : null;
    row.pctOfPoll1 = round(share(row) * 100, 1);
  });
  // What a heartbeat costs against a poll, per client-second (slow rates, where streams are
  // idle and get heartbeats): the two hybrids differ only in their heartbeat interval.
  const whatIf = rows[modes.findIndex((m) => m.heartbeatMs !== undefined)];
  const extraPings = whatIf ? Number(hybrid.pings) - Number(whatIf.pings) : 0;
  const pingUs = whatIf && extraPings > 0 ? ((cpu(hybrid) - cpu(whatIf)) / extraPings) * 1e6 : Number.NaN;
  const pollUs = Number(poll1.usPerRequest);
  const heartbeatsPerClientSecond = 1000 / HEARTBEAT_MS;
  const heartbeatNote = Number.isFinite(pingUs)
    ? `Heartbeats against polls: the hybrid with 2 s heartbeats spent ${round(pingUs, 1)} µs of server CPU per heartbeat more than the one with 10 s heartbeats (${round(cpu(hybrid) - cpu(whatIf!), 2)} CPU-s over ${extraPings} more heartbeats); a poll of the 1 s poller cost ${round(pollUs, 0)} µs. Per client-second that is ${round(heartbeatsPerClientSecond * pingUs, 1)} µs of 2 s heartbeats against ${round(pollUs, 0)} µs of 1 s polling: ${round(((heartbeatsPerClientSecond * pingUs) / pollUs) * 100, 1)} %, a floor under hybrid's share whatever else it does. `
    : '';
  const limit = slow ? 0.1 : 0.15;
  return {
    id: 'S6',
    title: `Hybrid (stream, polls on evidence) vs polling only, ${rate} event/s`,
    params: { clients, duration, rate, size: options.size },
    rows,
    columns: [
      ['cpuSeconds', 'server CPU-s'],
      ['pctOfPoll1', '% of poll-1 s CPU'],
      ['systemSeconds', 'of it kernel'],
      ['helperSeconds', 'of it GC threads'],
      ['requests', 'requests'],
      ['evidencePolls', 'polls on evidence'],
      ['usPerRequest', 'µs CPU / request'],
      ['pings', 'heartbeats'],
      ['notModified', '304s'],
      ['mib', 'MiB sent'],
      ['freshP50', 'fresh p50 ms'],
      ['freshP99', 'fresh p99 ms'],
      ['received', 'events seen'],
      ['generatorCpuPct', 'generator CPU %'],
    ],
    targets: [
      {
        label: `hybrid ≤ ${limit * 100} % of the CPU of polling every 1 s`,
        value: `${round(share(hybrid) * 100, 1)} %`,
        met: share(hybrid) <= limit,
      },
      ...(slow
        ? [
            {
              label: "the brief's 93 % less load: hybrid ≤ 7 % of polling every 1 s",
              value: `${round(share(hybrid) * 100, 1)} %`,
              met: share(hybrid) <= 0.07,
            },
          ]
        : [
            {
              label: 'hybrid freshness p99 ≤ 50 ms',
              value: `${hybrid.freshP99} ms`,
              met: Number(hybrid.freshP99) <= 50,
            },
          ]),
      {
        label: 'no poll on evidence while nothing is missing',
        value: String(hybrid.evidencePolls),
        met: Number(hybrid.evidencePolls) === 0,
      },
    ],
    ratios: {
      'hybrid + 10 s poll': round(cpu(hybridPoll) / cpu(hybrid), 2),
      'poll every 3 s': round(cpu(poll3) / cpu(hybrid), 2),
      'poll every 1 s': round(1 / share(hybrid), 2),
    },
    notes: [
      ...notes,
      `${heartbeatNote}The bare loop's streams with the same heartbeat (sent to every stream, busy or not): ${round(share(bareStreams) * 100, 1)} % of the CPU of polling every 1 s; the bare 304 responder polled every 1 s: ${round(share(bare1) * 100, 1)} %.`,
      'Pollers keep their connection alive (server keep-alive 75 s), send the cursor and If-None-Match, and start at a random phase. Hybrid clients read the heads in each heartbeat and poll when still behind one after 1 s, as the client does (client/heads-watch.ts); with whileOpen they also poll every 10 s. Freshness: publish → the event reaching the client, by stream (hybrid) or by the poll that returned it.',
    ],
  };
}
