/**
 * S5 reconnect storm (Tandem): N tracked streams, events at 10/s throughout; every stream is
 * cut at once with `hub.disconnect({})`. Clients reconnect like Tandem's client, with
 * Last-Event-ID. Measured: time from the cut until the last client's hello says `recovered`,
 * events lost (gaps in offsets, or never received), duplicates, and how long `disconnect`
 * itself held the server's event loop.
 */
import { clockMs } from '../lib/clock';
import { Generator, publish, sample, sleep, startServer } from '../lib/harness';
import { listenBacklogCap, tcpCounters } from '../lib/limits';
import { type Context, round, type ScenarioResult } from './types';

export async function runS5(ctx: Context): Promise<ScenarioResult> {
  const { options } = ctx;
  const clients = options.clients ?? 10_000;
  const rate = 10;
  const duration = options.duration ?? 10;
  const count = Math.round(rate * duration);
  const server = await startServer('tandem', { cpuProf: options.cpuProf });
  const gen = await Generator.start(clients);
  const now = clockMs;
  try {
    const o = await gen.open(server, clients, { track: true, reconnect: true });
    ctx.log(`S5: ${o.opened} open in ${Math.round(o.ms)} ms`);
    await sleep(1000);
    await gen.reset();
    const publishing = publish(server, rate, count, options.size);
    await sleep(Math.min(3000, (duration * 1000) / 3));
    const tcp0 = tcpCounters();
    const cpu0 = sample(server);
    const cutAt = now();
    const cut = await server.child.request<number>('disconnect');
    const disconnectMs = clockMs() - cutAt;
    const resumed = await gen.until((r) => r.reconnects >= cut, 30_000, 100);
    const cpu1 = sample(server);
    const resumeMs = resumed.reconnects >= cut ? resumed.lastResumeAt - cutAt : Number.NaN;
    ctx.log(`S5: cut ${cut}, ${resumed.reconnects} resumed, last after ${round(resumeMs)} ms`);
    const pub = await publishing;
    await gen.all('waitFor', { offset: pub.published, timeoutMs: 15_000 }, 30_000);
    const rep = await gen.report({ finalOffset: pub.published });
    const tcp1 = tcpCounters();
    const lost = rep.gapLost + rep.tailLost;
    return {
      id: 'S5',
      title: 'Reconnect storm: every connection cut at once',
      params: { clients, rate, duration, events: pub.published },
      rows: [
        {
          name: 'tandem',
          clients: o.opened,
          cut,
          resumed: rep.reconnects,
          notRecovered: rep.notRecovered,
          resyncs: rep.resyncs,
          resumeMs: round(resumeMs, 0),
          lost,
          duplicates: rep.dup,
          behind: rep.behind,
          disconnectMs: round(disconnectMs, 0),
          serverCpuSeconds: round(cpu1.cpuSeconds - cpu0.cpuSeconds, 2),
          listenOverflows: tcp1.listenOverflows - tcp0.listenOverflows,
          synRetrans: tcp1.synRetrans - tcp0.synRetrans,
          retries: rep.retries,
          gapP50: round(rep.resumeGap.quantileMs(0.5), 0),
          gapP99: round(rep.resumeGap.quantileMs(0.99), 0),
        },
      ],
      columns: [
        ['clients', 'clients'],
        ['cut', 'cut'],
        ['resumed', 'resumed'],
        ['disconnectMs', 'disconnect() ms'],
        ['resumeMs', 'all resumed after ms'],
        ['gapP50', 'gap p50 ms'],
        ['gapP99', 'gap p99 ms'],
        ['serverCpuSeconds', 'server CPU-s'],
        ['retries', 'retries'],
        ['listenOverflows', 'accept-queue drops'],
        ['synRetrans', 'SYN retransmits'],
        ['lost', 'events lost'],
        ['duplicates', 'duplicates'],
        ['notRecovered', 'not recovered'],
      ],
      targets: [
        {
          label: `all ${clients} resumed within 3 s, zero lost`,
          value: `${rep.reconnects}/${cut} in ${round(resumeMs, 0)} ms, ${lost} lost`,
          met:
            rep.reconnects >= cut &&
            cut === o.opened &&
            resumeMs <= 3000 &&
            lost === 0 &&
            rep.notRecovered === 0,
        },
      ],
      notes: [
        'The clients reconnect as Tandem\'s client does, with its own backoff code: after the bye, the first return is spread uniformly over the 2 s drop window, failed attempts back off over 100 ms × 1.3ⁿ (cap 2 s, full jitter); they send Last-Event-ID. "resumed" counts hellos with recovered=true after the cut; "gap" is each client\'s time from its drop to its resumed hello, the 2 s spread included. Peers have no resume, so S5 runs Tandem alone.',
        `The kernel caps a listen backlog at ${listenBacklogCap()} (net.core.somaxconn) here; returning clients beyond a full accept queue are dropped and retry their SYN after 1 s, 3 s, 7 s… ("accept-queue drops", "SYN retransmits": counters of the whole network namespace over the storm).`,
        ...(o.failed > 0 ? [`${o.failed} initial connections failed: ${o.errors[0] ?? ''}`] : []),
        ...(rep.errorSamples.length > 0
          ? [`generator errors (sample): ${rep.errorSamples.slice(0, 2).join('; ')}`]
          : []),
      ],
    };
  } finally {
    await gen.stop();
    await server.child.stop();
  }
}
