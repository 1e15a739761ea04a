/**
 * One load-generator shard: a process holding a slice of the clients, each a raw TCP socket
 * from its own source address on 127/8 (so 20 000 connections fit in the ephemeral port
 * range). Kinds: `sse` (any SSE server), `sio` (socket.io over a hand-rolled WebSocket),
 * `poll` (Tandem's /poll with cursor and If-None-Match) and `hybrid` (SSE + poll).
 * The runner drives it over IPC; every loop here is bounded by a count or a deadline.
 */
import { serveRequests } from '../lib/proc';
import { Poller } from './poller';
import { SioConn } from './sio-client';
import { SseConn } from './sse-client';
import {
  errorSamples,
  freshness,
  latency,
  noteError,
  now,
  type OpenArgs,
  resumeGap,
  shared,
  stats,
} from './state';

const streams: SseConn[] = [];
const sios: SioConn[] = [];
const pollers: Poller[] = [];

/** Runs `jobs` with at most `limit` in flight; resolves with how many failed. */
async function pool(count: number, limit: number, job: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  let failed = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      try {
        await job(i);
      } catch (e) {
        failed++;
        noteError(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
  return failed;
}

async function open(a: Record<string, unknown>) {
  const args = a as unknown as OpenArgs;
  shared.stopping = false;
  const started = performance.now();
  let failed = 0;
  if (args.kind === 'sse' || args.kind === 'hybrid') {
    const conns = Array.from({ length: args.count }, (_, i) => new SseConn(args, i));
    streams.push(...conns);
    failed = await pool(args.count, args.concurrency, (i) => conns[i]!.open());
    if (args.kind === 'hybrid') {
      for (let i = 0; i < conns.length; i++) pollers.push(new Poller(args, i, conns[i]!));
    }
  } else if (args.kind === 'sio') {
    const conns = Array.from({ length: args.count }, (_, i) => new SioConn(args, i));
    sios.push(...conns);
    failed = await pool(args.count, args.concurrency, (i) => conns[i]!.open());
  } else {
    for (let i = 0; i < args.count; i++) pollers.push(new Poller(args, i, null));
  }
  return {
    opened: args.count - failed,
    failed,
    ms: performance.now() - started,
    errors: errorSamples.slice(),
  };
}

function report(a: Record<string, unknown>) {
  const finalOffset = a.finalOffset === undefined ? undefined : Number(a.finalOffset);
  let tailLost = 0;
  let behind = 0;
  if (finalOffset !== undefined) {
    for (const s of streams) {
      if (s.lastOffset < finalOffset) {
        behind++;
        tailLost += finalOffset - Math.max(0, s.lastOffset);
      }
    }
  }
  return {
    ...stats,
    tailLost,
    behind,
    open: streams.filter((s) => s.ready).length + sios.filter((s) => s.ready).length,
    latency: latency.toJSON(),
    freshness: freshness.toJSON(),
    resumeGap: resumeGap.toJSON(),
    errorSamples: errorSamples.slice(),
  };
}

function reset() {
  for (const key of Object.keys(stats) as (keyof typeof stats)[]) stats[key] = 0;
  latency.reset();
  freshness.reset();
  resumeGap.reset();
  errorSamples.length = 0;
  return true;
}

function closeAll() {
  shared.stopping = true;
  for (const p of pollers) p.stop();
  for (const s of streams) s.sock?.destroy();
  for (const s of sios) s.sock?.destroy();
  pollers.length = 0;
  streams.length = 0;
  sios.length = 0;
  return true;
}

serveRequests({
  open,
  startPolling: (a) => {
    const deadline = now() + Number(a.durationMs);
    for (const p of pollers) p.start(deadline);
    return pollers.length;
  },
  stopPolling: () => {
    for (const p of pollers) p.stop();
    return true;
  },
  report,
  reset,
  closeAll,
  /** Waits until every tracked stream has seen `offset`, or the deadline passes. */
  waitFor: async (a) => {
    const offset = Number(a.offset);
    const deadline = performance.now() + Number(a.timeoutMs);
    while (performance.now() < deadline) {
      if (streams.every((s) => s.have() >= offset)) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  },
});
