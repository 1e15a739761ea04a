/**
 * S8 a channel's heads drift: Tandem on the Redis broker (a private redis-server on the
 * server's core), N hybrid clients as Tandem's client runs them (stream open, a poll only when a
 * heartbeat shows the client behind a head). First a window of ordinary events (1/s), in which
 * no client may poll; then, on a quiet channel, events appended to the log with the broker's
 * own script whose pub/sub notification nobody hears (as if pub/sub had lost it), each at a
 * random moment of the hub's 10 s head check. Each must reach every client within 12 s with the
 * stream up: the hub's head check finds it, repairs its feed from the log and the streams
 * deliver it.
 */
import { cpus, Generator, publish, sample, sleep, startServer, warmUp } from '../lib/harness';
import { sampleProcess } from '../lib/proc';
import { startRedis } from '../lib/redis';
import { type Context, type Row, round, type ScenarioResult } from './types';

/** Silently dropped events per run. */
const DROPS = 5;
/** The target: a dropped event reaches every client within this long. */
const LIMIT_MS = 12_000;

export async function runS8(ctx: Context): Promise<ScenarioResult> {
  const { options } = ctx;
  const clients = options.clients ?? 2000;
  const duration = options.duration ?? 20;
  const rows: Row[] = [];
  const notes: string[] = [];
  const redis = await startRedis(cpus().server);
  const server = await startServer('tandem', { cpuProf: options.cpuProf, redisUrl: redis.url });
  const gen = await Generator.start(clients);
  let polls = 0;
  let evidencePolls = 0;
  let closes = 0;
  let hellos = 0;
  const times: number[] = [];
  try {
    const o = await gen.open(server, clients, { kind: 'hybrid', track: true, pollWhileOpen: false });
    if (o.failed > 0) notes.push(`${o.failed} connections failed: ${o.errors[0] ?? ''}`);
    await sleep(1000);
    await warmUp(server, gen, o.opened, options.size);
    await gen.reset();
    await gen.all('startPolling', { durationMs: (duration + DROPS * 30) * 1000 });

    // Ordinary events: the stream proves every client complete, nobody polls.
    const a = sample(server);
    const ra = sampleProcess(redis.pid);
    const pub = await publish(server, 1, duration, options.size);
    await sleep(2500);
    const b = sample(server);
    const rb = sampleProcess(redis.pid);
    const normal = await gen.report();
    polls += normal.polls;
    evidencePolls += normal.evidencePolls;
    closes += normal.closes;
    hellos += normal.hellos;
    rows.push({
      name: `${pub.published} ordinary events, 1/s`,
      clients: o.opened,
      reached: round((normal.events / Math.max(1, pub.published * o.opened)) * 100, 3),
      ms: round(normal.latency.quantileMs(0.99), 1),
      polls: normal.polls,
      evidencePolls: normal.evidencePolls,
      closes: normal.closes,
      serverCpuSeconds: round(b.cpuSeconds - a.cpuSeconds, 2),
      redisCpuSeconds: round(rb.cpuSeconds - ra.cpuSeconds, 3),
    });
    ctx.log(`S8 ordinary: ${normal.polls} polls, p99 ${round(normal.latency.quantileMs(0.99))} ms`);

    for (let i = 1; i <= DROPS; i++) {
      // A random moment of the 10 s check, on a channel quiet since the last event.
      await sleep(2000 + Math.random() * 10_000);
      await gen.reset();
      const started = performance.now();
      const offset = await server.child.request<number>('silentAppend', { size: options.size });
      const ok = await gen.all<boolean>('waitFor', { offset, timeoutMs: 30_000 }, 40_000);
      const ms = performance.now() - started;
      const rep = await gen.report();
      polls += rep.polls;
      evidencePolls += rep.evidencePolls;
      closes += rep.closes;
      hellos += rep.hellos;
      times.push(ok.every(Boolean) ? ms : Number.POSITIVE_INFINITY);
      rows.push({
        name: `dropped event ${i} (offset ${offset})`,
        clients: o.opened,
        reached: round((rep.events / Math.max(1, o.opened)) * 100, 3),
        ms: round(ms, 0),
        polls: rep.polls,
        evidencePolls: rep.evidencePolls,
        closes: rep.closes,
        serverCpuSeconds: null,
        redisCpuSeconds: null,
      });
      ctx.log(`S8 drop ${i}: every client in ${round(ms, 0)} ms, ${rep.polls} polls`);
    }
    const stats = (await server.child.request<{ broker?: { headChecks?: number; headRepairs?: number } }>(
      'stats',
    )) ?? { broker: undefined };
    notes.push(
      `The hub's head checks: ${stats.broker?.headChecks ?? '?'} made, ${stats.broker?.headRepairs ?? '?'} channels repaired (one per dropped event expected). "reached": the share of clients the stream (or a poll) brought the event to; "ms": for ordinary events the p99 publish → client, for dropped ones the time from the silent append to the last client having it.`,
    );
  } finally {
    await gen.stop();
    await server.child.stop();
    await redis.stop();
  }
  const worst = Math.max(...times);
  return {
    id: 'S8',
    title: "A channel's heads drift: silently dropped events, streams up",
    params: { clients, duration, drops: DROPS, size: options.size },
    rows,
    columns: [
      ['clients', 'clients'],
      ['reached', 'reached %'],
      ['ms', 'ms'],
      ['polls', 'polls'],
      ['evidencePolls', 'polls on evidence'],
      ['closes', 'streams dropped'],
      ['serverCpuSeconds', 'server CPU-s'],
      ['redisCpuSeconds', 'Redis CPU-s'],
    ],
    targets: [
      {
        label: `every dropped event reaches every client within ${LIMIT_MS / 1000} s`,
        value: `${round(worst / 1000, 2)} s at worst (${times.map((t) => round(t / 1000, 1)).join(', ')})`,
        met: worst <= LIMIT_MS,
      },
      {
        label: 'no client polls while nothing is missing (counted over the whole run)',
        value: `${polls} polls (${evidencePolls} on evidence)`,
        met: polls === 0,
      },
      {
        label: 'the streams stay up',
        value: `${closes} dropped, ${hellos} reopened`,
        met: closes === 0 && hellos === 0,
      },
    ],
    notes,
  };
}
