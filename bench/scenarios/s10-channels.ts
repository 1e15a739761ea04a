/**
 * S10 multi-channel streams: N streams each following 1, 8 or 64 channels, with events on one
 * of them ("one active") or round robin on all of them ("all active"); every stream gets every
 * event. Bytes and server CPU per delivery for Tandem's compact wire (what Tandem's client asks
 * for), for the classic frames (what a native EventSource gets: the whole cursor as `id:` and
 * the envelope) and for the bare loop sending the same payloads (no channels, no ids).
 */
import {
  Generator,
  publish,
  type ServerHandle,
  type ServerKind,
  sample,
  sleep,
  startServer,
  warmUp,
} from '../lib/harness';
import { CHANNEL } from '../servers/types';
import { type Context, type Row, round, type ScenarioResult, type Target } from './types';

const CHANNEL_COUNTS = [1, 8, 64];

/** The channels a stream follows: the benchmark channel first, then `bench:1`… */
function channelList(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i === 0 ? CHANNEL : `${CHANNEL}:${i}`));
}

interface Variant {
  name: string;
  kind: ServerKind;
  /** Tandem's wire: `compact` asks for it on the stream request. */
  wire?: 'compact' | 'classic';
}

const VARIANTS: Variant[] = [
  { name: 'tandem', kind: 'tandem', wire: 'compact' },
  { name: 'tandem-classic', kind: 'tandem', wire: 'classic' },
  { name: 'bare', kind: 'bare' },
];

export async function runS10(ctx: Context): Promise<ScenarioResult> {
  const { options } = ctx;
  const clients = options.clients ?? 1000;
  const rate = options.rate ?? 50;
  const duration = options.duration ?? 4;
  const count = Math.round(rate * duration);
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const variant of VARIANTS) {
    const server = await startServer(variant.kind, { cpuProf: options.cpuProf });
    const gen = await Generator.start(clients);
    try {
      for (const n of CHANNEL_COUNTS) {
        const channels = channelList(n);
        const handle: ServerHandle =
          variant.kind === 'tandem'
            ? {
                ...server,
                streamPath: `/live/stream?channels=${channels.join(',')}${variant.wire === 'compact' ? '&wire=compact' : ''}`,
              }
            : server;
        const o = await gen.open(handle, clients);
        if (o.failed > 0)
          notes.push(
            `${variant.name} ×${n}: ${o.failed} of ${clients} connections failed: ${o.errors[0] ?? ''}`,
          );
        await sleep(500);
        // The counters still hold the previous channel count's streams.
        await gen.reset();
        await warmUp(server, gen, o.opened, options.size);
        // The bare loop has no channels: one measurement per channel count is its floor.
        const modes = variant.kind === 'bare' || n === 1 ? ['one'] : ['one', 'all'];
        for (const mode of modes) {
          const on = mode === 'all' ? channels : undefined;
          if (on) {
            // Every channel's first event (a new log: compact streams hear its epoch first) is
            // left out of the window, like the warm-up.
            await gen.reset();
            const primed = await publish(server, 200, n, options.size, 1, on);
            await gen.until((r) => r.events >= primed.published * o.opened, 15_000);
          }
          await gen.reset();
          const a = sample(server);
          const pub = await publish(server, rate, count, options.size, 1, on);
          const expected = pub.published * o.opened;
          const rep = await gen.until((r) => r.events >= expected, 30_000);
          const b = sample(server);
          const cpu = b.cpuSeconds - a.cpuSeconds;
          const label = variant.kind === 'bare' ? 'bare' : `${variant.name} ×${n} ${mode}`;
          ctx.log(`S10 ${label}: ${rep.events}/${expected} deliveries, ${round(cpu)} CPU-s`);
          rows.push({
            name: variant.name,
            channels: n,
            active: variant.kind === 'bare' ? '—' : mode,
            clients: o.opened,
            deliveries: rep.events,
            complete: round((rep.events / expected) * 100, 3),
            frameBytes: round(rep.eventBytes / rep.events, 1),
            wireBytes: round(rep.rxBytes / rep.events, 1),
            cpuUs: round((cpu * 1e6) / rep.events, 2),
            systemUs: round(((b.systemSeconds - a.systemSeconds) * 1e6) / rep.events, 2),
          });
        }
        await gen.all('closeAll');
        await sleep(500);
      }
    } finally {
      await gen.stop();
      await server.child.stop();
    }
  }
  return {
    id: 'S10',
    title: 'Multi-channel streams: bytes and server CPU per delivery',
    params: { clients, rate, duration, size: options.size, events: count },
    rows,
    columns: [
      ['channels', 'channels'],
      ['active', 'active'],
      ['deliveries', 'deliveries'],
      ['complete', 'complete %'],
      ['frameBytes', 'event frame B'],
      ['wireBytes', 'all bytes B'],
      ['cpuUs', 'CPU µs'],
      ['systemUs', 'of it kernel µs'],
    ],
    targets: targets(rows, options.size),
    notes: [
      ...notes,
      '"event frame B": the SSE frame of an event, per delivery; "all bytes B": everything the client read in the window (HTTP chunk framing, heartbeats with their heads) per delivery. CPU per delivery is the server process\'s CPU time (publishing included) over the deliveries.',
      "tandem-classic is what a native EventSource receives (and Tandem's client before the compact wire): the whole cursor as `id:` and the envelope.",
    ],
  };
}

function targets(rows: Row[], size: number): Target[] {
  const out: Target[] = [];
  const compact = rows.filter((r) => r.name === 'tandem');
  if (compact.length === 0) return out;
  const worst = Math.max(...compact.map((r) => Number(r.frameBytes)));
  out.push({
    label: `compact wire: bytes per delivery ≤ payload + 48 B (${size + 48} B) at 1, 8 and 64 channels`,
    value: `${worst} B at most (${compact.map((r) => `×${r.channels} ${r.active}: ${r.frameBytes}`).join(', ')})`,
    met: worst <= size + 48,
  });
  const one = compact.find((r) => r.channels === 1);
  for (const r of compact.filter((x) => x.channels === 64)) {
    if (!one) break;
    const ratio = Number(r.cpuUs) / Number(one.cpuUs);
    out.push({
      label: `compact wire: CPU per delivery at 64 channels (${r.active} active) ≤ 1.2× at 1`,
      value: `${round(ratio, 2)}× (${r.cpuUs} against ${one.cpuUs} µs)`,
      met: ratio <= 1.2,
    });
  }
  return out;
}
