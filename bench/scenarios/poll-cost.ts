/**
 * POLL — what a `304` poll costs Tandem against the bare loop's `304` handler, in one run:
 * N pollers every second (2 000 polls/s by default) with the cursor and `If-None-Match`, no
 * events, so every answer after the first is `304`. Both servers stay up side by side (pinned
 * to the same core, one polled at a time); windows alternate T B B T T B …, so a drift of the
 * machine's speed over the run falls on both alike, and each adjacent pair gives a ratio.
 */
import { Generator, type ServerHandle, type ServerKind, sample, sleep, startServer } from '../lib/harness';
import { type Context, type Row, round, type ScenarioResult } from './types';

const PAIRS = 5;

interface Window {
  kind: ServerKind;
  cpuSeconds: number;
  systemSeconds: number;
  requests: number;
  notModified: number;
  usPerRequest: number;
}

async function window(
  server: ServerHandle,
  gen: Generator,
  seconds: number,
  measure: boolean,
): Promise<Window | null> {
  // The pollers' first answers (200, the ETag) and reconnects land before the window opens.
  await gen.all('startPolling', { durationMs: (seconds + 2) * 1000 });
  await sleep(1500);
  await gen.reset();
  const a = sample(server);
  await sleep(seconds * 1000);
  const b = sample(server);
  const rep = await gen.report();
  await gen.all('stopPolling');
  if (!measure) return null;
  const cpu = b.cpuSeconds - a.cpuSeconds;
  return {
    kind: server.kind,
    cpuSeconds: cpu,
    systemSeconds: b.systemSeconds - a.systemSeconds,
    requests: rep.requests,
    notModified: rep.poll304,
    usPerRequest: rep.requests > 0 ? (cpu / rep.requests) * 1e6 : Number.NaN,
  };
}

export async function runPollCost(ctx: Context): Promise<ScenarioResult> {
  const { options } = ctx;
  const clients = options.clients ?? 2000;
  const seconds = options.duration ?? 5;
  const kinds: ServerKind[] = ['tandem', 'bare'];
  const servers = new Map<ServerKind, ServerHandle>();
  const gens = new Map<ServerKind, Generator>();
  const windows: Window[] = [];
  try {
    for (const kind of kinds) {
      const server = await startServer(kind, { cpuProf: options.cpuProf });
      servers.set(kind, server);
      const gen = await Generator.start(clients);
      gens.set(kind, gen);
      await gen.open(server, clients, { kind: 'poll', pollIntervalMs: 1000 });
      // A first window, not counted, warms the server's JIT and connection pool.
      await window(server, gen, 4, false);
    }
    for (let p = 0; p < PAIRS; p++) {
      const order = p % 2 === 0 ? kinds : [...kinds].reverse();
      for (const kind of order) {
        const w = (await window(servers.get(kind)!, gens.get(kind)!, seconds, true))!;
        ctx.log(
          `POLL ${kind}: ${w.requests} requests (${w.notModified} 304), ${round(w.cpuSeconds)} CPU-s, ${round(w.usPerRequest, 1)} µs each`,
        );
        windows.push(w);
      }
    }
  } finally {
    for (const gen of gens.values()) await gen.stop();
    for (const server of servers.values()) await server.child.stop();
  }
  const rows: Row[] = windows.map((w, i) => ({
    name: `${w.kind} #${Math.floor(i / 2) + 1}`,
    requests: w.requests,
    notModified: w.notModified,
    cpuSeconds: round(w.cpuSeconds, 2),
    systemSeconds: round(w.systemSeconds, 2),
    usPerRequest: round(w.usPerRequest, 1),
  }));
  const ratios: number[] = [];
  for (let p = 0; p < PAIRS; p++) {
    const pair = windows.slice(p * 2, p * 2 + 2);
    const t = pair.find((w) => w.kind === 'tandem')!;
    const b = pair.find((w) => w.kind === 'bare')!;
    ratios.push(t.usPerRequest / b.usPerRequest);
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1]!;
  return {
    id: 'POLL',
    title: "A 304 poll: Tandem against the bare loop's 304 handler",
    params: { clients, rate: `${clients} polls/s`, windowS: seconds, pairs: PAIRS },
    rows,
    columns: [
      ['requests', 'requests'],
      ['notModified', '304s'],
      ['cpuSeconds', 'server CPU-s'],
      ['systemSeconds', 'of it kernel'],
      ['usPerRequest', 'µs CPU / request'],
    ],
    targets: [
      {
        label: "a 304 poll ≤ 1.3× the bare 304 handler's CPU (median of the pairs)",
        value: `${round(median, 2)}× (pairs ${ratios.map((r) => round(r, 2)).join(', ')})`,
        met: median <= 1.3,
      },
    ],
    notes: [
      'The bare handler answers 304 to any If-None-Match without reading the cursor; Tandem decodes it, reads the head of each channel from its broker and compares the ETag.',
    ],
  };
}
