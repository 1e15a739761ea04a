/**
 * S1 idle connections: RSS per connection at each step (server RSS after GC, less its RSS
 * before any connection, divided by the connection count), and the CPU the idle server spends
 * over a window at the top step — for Tandem that is its heartbeats.
 */
import { Generator, type ServerKind, sample, sleep, startServer } from '../lib/harness';
import { maxServerConnections } from '../lib/limits';
import { type Context, type Row, round, type ScenarioResult } from './types';

/** RSS and V8 heap after a full GC. */
async function settled(
  server: Awaited<ReturnType<typeof startServer>>,
): Promise<{ rss: number; heap: number }> {
  await server.child.request('gc');
  await sleep(500);
  const usage = await server.child.request<{ memory: NodeJS.MemoryUsage }>('usage');
  return { rss: sample(server).rssBytes, heap: usage.memory.heapUsed + usage.memory.external };
}

export async function runS1(ctx: Context): Promise<ScenarioResult> {
  const { options } = ctx;
  const cap = maxServerConnections();
  let steps = options.steps ?? [1000, 10_000, options.clients ?? 20_000];
  if (options.clients && !options.steps)
    steps = steps.filter((s) => s < options.clients!).concat(options.clients);
  const requestedTop = steps[steps.length - 1]!;
  steps = steps.map((s) => Math.min(s, cap));
  const top = steps[steps.length - 1]!;
  const windowS = options.duration ?? 6;
  const notes: string[] = [];
  if (requestedTop > top) {
    notes.push(
      `top step capped at ${top} connections: the open-file limit (${cap + 150}) applies to the server process and cannot be raised here`,
    );
  }
  const rows: Row[] = [];
  for (const kind of options.servers as ServerKind[]) {
    const server = await startServer(kind, { cpuProf: options.cpuProf });
    const gen = await Generator.start(top);
    try {
      await sleep(500);
      const base = await settled(server);
      let open = 0;
      // Every server through the same steps, with the same settling and GC between them.
      for (const step of steps) {
        const r = await gen.open(server, step - open);
        open += r.opened;
        ctx.log(`S1 ${kind}: ${open} open (${r.failed} failed) in ${Math.round(r.ms)} ms`);
        if (r.failed > 0)
          notes.push(`${kind}: ${r.failed} connections failed at step ${step}: ${r.errors[0] ?? ''}`);
        await sleep(3000);
        const mem = await settled(server);
        const row: Row = {
          name: kind,
          connections: open,
          rssMiB: round(mem.rss / 2 ** 20, 1),
          kbPerConn: round((mem.rss - base.rss) / open / 1024, 2),
          heapKbPerConn: round((mem.heap - base.heap) / open / 1024, 2),
        };
        if (step === steps[steps.length - 1]) {
          await gen.reset();
          const a = sample(server);
          await sleep(windowS * 1000);
          const b = sample(server);
          const rep = await gen.report();
          const cpu = b.cpuSeconds - a.cpuSeconds;
          row.idleCpuPct = round((cpu / windowS) * 100, 2);
          row.heartbeats = rep.pings;
          row.usPerHeartbeat = rep.pings > 0 ? round((cpu * 1e6) / rep.pings, 2) : null;
        }
        rows.push(row);
      }
    } finally {
      await gen.stop();
      await server.child.stop();
    }
  }
  const atTop = (name: string) => Number(rows.filter((r) => r.name === name).at(-1)?.kbPerConn ?? Number.NaN);
  const kb = atTop('tandem');
  const floor = atTop('bare');
  const targets = [{ label: `≤ 10 KB per idle connection at ${top}`, value: `${kb} KB`, met: kb <= 10 }];
  if (!Number.isNaN(floor))
    targets.push({
      label: `≤ the bare loop's KB per idle connection at ${top}, same steps`,
      value: `${kb} against ${floor} KB`,
      met: kb <= floor,
    });
  return {
    id: 'S1',
    title: 'Idle connections: RSS per connection and heartbeat CPU',
    params: { steps: steps.join('/'), windowS },
    rows,
    columns: [
      ['connections', 'conns'],
      ['rssMiB', 'RSS MiB'],
      ['kbPerConn', 'KB/conn'],
      ['heapKbPerConn', 'heap KB/conn'],
      ['idleCpuPct', 'idle CPU %'],
      ['heartbeats', 'heartbeats'],
      ['usPerHeartbeat', 'µs/heartbeat'],
    ],
    targets,
    notes: [
      ...notes,
      `RSS includes V8 heap growth and allocator slack; kernel socket buffers are not in RSS. Idle CPU window ${windowS} s at the top step; Tandem and the bare loop send a tandem:ping event to every stream every 2 s (the bare loop as the floor of that cost), better-sse a keep-alive comment every 10 s, socket.io a ping every 25 s (µs/heartbeat for socket.io includes its pong handling).`,
    ],
  };
}
