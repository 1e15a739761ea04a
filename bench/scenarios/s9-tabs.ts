/**
 * S9 tabs: what sharing one stream between the tabs of a browser saves the server. U users with
 * T tabs each, at 1 event/s: without sharing every tab is a client of its own (a stream, polls
 * on evidence: U × T hybrid clients); with sharing one tab per user is (U hybrid clients) and
 * relays to the others inside the browser, at no cost to the server. Each mode gets a fresh
 * server; memory is read after a GC with every stream open, CPU, heartbeats and requests over
 * the window.
 */
import { Generator, publish, sample, sleep, startServer, warmUp } from '../lib/harness';
import { type Context, type Row, round, type ScenarioResult } from './types';

export async function runS9(ctx: Context): Promise<ScenarioResult> {
  const { options } = ctx;
  const users = options.clients ?? 2000;
  const tabs = 4;
  const duration = options.duration ?? 10;
  const modes = [
    { name: `not shared: ${tabs} streams per user`, streams: users * tabs },
    { name: 'shared: 1 stream per user', streams: users },
  ];
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const mode of modes) {
    const server = await startServer('tandem', { cpuProf: options.cpuProf });
    const gen = await Generator.start(mode.streams);
    try {
      await sleep(500);
      await server.child.request('gc');
      await sleep(500);
      const base = sample(server).rssBytes;
      const o = await gen.open(server, mode.streams, {
        kind: 'hybrid',
        track: true,
        pollIntervalMs: 0,
        pollWhileOpen: false,
      });
      if (o.failed > 0) notes.push(`${mode.name}: ${o.failed} connections failed: ${o.errors[0] ?? ''}`);
      await sleep(1000);
      await warmUp(server, gen, o.opened, options.size);
      await server.child.request('gc');
      await sleep(500);
      const rss = sample(server).rssBytes;
      await gen.reset();
      const a = sample(server);
      await gen.all('startPolling', { durationMs: duration * 1000 });
      const pub = await publish(server, 1, duration, options.size);
      await sleep(1500);
      const b = sample(server);
      await gen.all('stopPolling');
      const rep = await gen.report();
      const seconds = (b.at - a.at) / 1000;
      const cpu = b.cpuSeconds - a.cpuSeconds;
      ctx.log(
        `S9 ${mode.name}: ${o.opened} streams, RSS ${round(rss / 2 ** 20, 1)} MiB, ${round(cpu)} CPU-s, ${rep.pings} heartbeats, ${rep.requests} polls`,
      );
      rows.push({
        name: mode.name,
        users,
        streams: o.opened,
        rssMiB: round(rss / 2 ** 20, 1),
        streamsMiB: round((rss - base) / 2 ** 20, 1),
        kbPerUser: round((rss - base) / users / 1024, 2),
        cpuSeconds: round(cpu, 2),
        cpuPct: round((cpu / seconds) * 100, 1),
        heartbeatsPerS: round(rep.pings / seconds, 0),
        requests: rep.requests,
        deliveries: rep.latency.count,
        events: pub.published,
        p99: round(rep.latency.quantileMs(0.99), 1),
      });
    } finally {
      await gen.stop();
      await server.child.stop();
    }
  }
  const [apart, shared] = rows as [Row, Row];
  const ratio = (key: string) => round(Number(apart[key]) / Number(shared[key]), 2);
  const ratios: Record<string, number> = {
    'memory of the streams': ratio('streamsMiB'),
    'server CPU': ratio('cpuSeconds'),
    heartbeats: ratio('heartbeatsPerS'),
  };
  // Polls on evidence only: none at all while nothing is missing.
  if (Number(shared.requests) > 0) ratios.polls = ratio('requests');
  return {
    id: 'S9',
    title: `Tabs: ${users} users with ${tabs} tabs each, shared vs not`,
    params: { users, tabs, duration, rate: 1, size: options.size },
    rows,
    columns: [
      ['streams', 'streams'],
      ['rssMiB', 'RSS MiB'],
      ['streamsMiB', 'of it streams MiB'],
      ['kbPerUser', 'KB/user'],
      ['cpuSeconds', 'server CPU-s'],
      ['cpuPct', 'CPU %'],
      ['heartbeatsPerS', 'heartbeats/s'],
      ['requests', 'polls'],
      ['deliveries', 'deliveries'],
      ['p99', 'p99 ms'],
    ],
    targets: [
      {
        label: `sharing needs ≤ 1/${tabs / 2} of the streams' memory`,
        value: `${ratio('streamsMiB')}× less`,
        met: ratio('streamsMiB') >= tabs / 2,
      },
    ],
    ratios,
    notes: [
      ...notes,
      `Each client is what Tandem's client is while connected: a stream whose heartbeats carry the heads, and a poll only when one shows it behind (client/heads-watch.ts). Shared, the leader tab's client is the only one the server sees; the followers get its events over a BroadcastChannel. RSS after a GC with every stream open (the streams' part: less the RSS before any connection); CPU, heartbeats (tandem:ping events received) and polls over the ${duration} s window at 1 event/s.`,
    ],
  };
}
