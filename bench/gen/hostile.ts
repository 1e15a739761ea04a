/**
 * The hostile-load generator (scenario H): clients that ask Tandem for as much work and memory
 * as its protocol lets them, driven by the runner over IPC. Every load is bounded by a count
 * and a deadline, and talks to 127.0.0.1 only.
 *
 * - `pollAmplify`: parallel polls from offset 0 over many full channels, again and again;
 * - `stalledReplay`: streams that resume far behind, then stop reading;
 * - `replayStorm`: streams that all resume far behind at once and read everything;
 * - `channelFlood`: polls naming channels nobody ever published to;
 * - `wakeStorm`: long polls on one channel, all woken by one event.
 */
import http from 'node:http';
import net from 'node:net';
import { clockMs } from '../lib/clock';
import { serveRequests } from '../lib/proc';

const HOST = '127.0.0.1';

/** Runs `count` jobs with at most `limit` in flight. */
async function pool(count: number, limit: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
}

/** One GET; resolves with status and body size, never rejects. */
function get(
  agent: http.Agent,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve) => {
    const req = http.get({ host: HOST, port, path, agent, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', () => resolve({ status: -1, bytes }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: -1, bytes: 0 }));
  });
}

async function pollAmplify(a: Record<string, unknown>) {
  const port = Number(a.port);
  const channels = a.channels as string[];
  const cursor = String(a.cursor);
  const parallel = Number(a.parallel);
  const deadline = performance.now() + Number(a.durationMs);
  const agent = new http.Agent({ keepAlive: true, maxSockets: parallel });
  const path = `/live/poll?channels=${channels.join(',')}&cursor=${encodeURIComponent(cursor)}`;
  let polls = 0;
  let errors = 0;
  let bytes = 0;
  let largest = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (performance.now() < deadline) {
        const r = await get(agent, port, path, 30_000);
        polls++;
        bytes += r.bytes;
        largest = Math.max(largest, r.bytes);
        if (r.status !== 200) errors++;
      }
    }),
  );
  agent.destroy();
  return { polls, errors, bytes, largest };
}

/** Counts SSE frames (blank lines) across chunks. */
class FrameCounter {
  frames = 0;
  private lastByte = 0;
  push(chunk: Buffer): void {
    let i = chunk.indexOf(10);
    while (i >= 0) {
      const prev = i > 0 ? chunk[i - 1] : this.lastByte;
      if (prev === 10) this.frames++;
      i = chunk.indexOf(10, i + 1);
    }
    if (chunk.length > 0) this.lastByte = chunk[chunk.length - 1]!;
  }
}

/** A raw stream request: resolves with the socket once connected. */
function rawStream(port: number, path: string, lastEventId: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port }, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nAccept: text/event-stream\r\nLast-Event-ID: ${lastEventId}\r\n\r\n`,
      );
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

const stalled: net.Socket[] = [];

/**
 * Opens `count` streams resuming from `cursor` that read their first bytes and then nothing.
 * A paused socket does not see the server close it, so the runner counts the hub's streams.
 */
async function stalledOpen(a: Record<string, unknown>) {
  const port = Number(a.port);
  let failed = 0;
  await pool(Number(a.count), 50, async () => {
    try {
      const socket = await rawStream(port, String(a.path), String(a.cursor));
      socket.once('data', () => socket.pause());
      socket.on('error', () => {});
      stalled.push(socket);
    } catch {
      failed++;
    }
  });
  return { opened: stalled.length, failed };
}

function stalledClose() {
  for (const s of stalled.splice(0)) s.destroy();
  return true;
}

async function replayStorm(a: Record<string, unknown>) {
  const port = Number(a.port);
  const count = Number(a.count);
  const expect = Number(a.expectFrames);
  const deadline = performance.now() + Number(a.timeoutMs);
  const started = clockMs();
  const done: number[] = [];
  let failed = 0;
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          rawStream(port, String(a.path), String(a.cursor)).then(
            (socket) => {
              const counter = new FrameCounter();
              const timer = setTimeout(
                () => {
                  failed++;
                  socket.destroy();
                },
                Math.max(0, deadline - performance.now()),
              );
              socket.on('data', (chunk: Buffer) => {
                counter.push(chunk);
                if (counter.frames >= expect) {
                  done.push(clockMs() - started);
                  clearTimeout(timer);
                  socket.destroy();
                }
              });
              socket.on('error', () => {});
              socket.on('close', () => {
                clearTimeout(timer);
                resolve();
              });
            },
            () => {
              failed++;
              resolve();
            },
          );
        }),
    ),
  );
  done.sort((x, y) => x - y);
  return { completed: done.length, failed, lastMs: done.length ? Math.round(done[done.length - 1]!) : null };
}

async function channelFlood(a: Record<string, unknown>) {
  const port = Number(a.port);
  const polls = Number(a.polls);
  const perPoll = Number(a.channelsPerPoll);
  const concurrency = Number(a.concurrency);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const prefix = Math.random().toString(36).slice(2, 8);
  let errors = 0;
  const started = performance.now();
  await pool(polls, concurrency, async (i) => {
    const names = Array.from({ length: perPoll }, (_, k) => `flood-${prefix}-${i}-${k}`);
    const r = await get(agent, port, `/live/poll?channels=${names.join(',')}`, 30_000);
    if (r.status !== 200) errors++;
  });
  agent.destroy();
  return { polls, errors, ms: Math.round(performance.now() - started) };
}

let waiting: Promise<{ answered: number; errors: number; answeredAt: number[] }> | null = null;

/** Opens `count` long polls on a channel from its head; `wakeResult` collects them. */
async function wakeStart(a: Record<string, unknown>) {
  const port = Number(a.port);
  const count = Number(a.count);
  const agent = new http.Agent({ keepAlive: true, maxSockets: count });
  const path = `/live/poll?channels=${String(a.channel)}&cursor=${encodeURIComponent(String(a.cursor))}&wait=20`;
  const answeredAt: number[] = [];
  let errors = 0;
  waiting = Promise.all(
    Array.from({ length: count }, async () => {
      const r = await get(agent, port, path, 30_000);
      if (r.status === 200) answeredAt.push(clockMs());
      else errors++;
    }),
  ).then(() => {
    agent.destroy();
    return { answered: answeredAt.length, errors, answeredAt };
  });
  return { started: count };
}

async function wakeResult(a: Record<string, unknown>) {
  const publishedAt = Number(a.publishedAt);
  const r = await waiting!;
  const lag = r.answeredAt.map((t) => t - publishedAt).sort((x, y) => x - y);
  const q = (p: number) =>
    lag.length ? Math.round(lag[Math.min(lag.length - 1, Math.floor(p * lag.length))]!) : null;
  return { answered: r.answered, errors: r.errors, p50Ms: q(0.5), maxMs: q(1) };
}

/** Sockets that send the start of a request and never finish its headers. */
async function slowHeaders(a: Record<string, unknown>) {
  const port = Number(a.port);
  const count = Number(a.count);
  const holdMs = Number(a.holdMs);
  const sockets: net.Socket[] = [];
  let closed = 0;
  const started = clockMs();
  let lastCloseMs: number | null = null;
  await pool(count, 100, async () => {
    const socket = await new Promise<net.Socket | null>((resolve) => {
      const s = net.connect({ host: HOST, port }, () => {
        s.write(`GET /live/stream?channels=slow HTTP/1.1\r\nHost: ${HOST}\r\n`);
        resolve(s);
      });
      s.once('error', () => resolve(null));
    });
    if (!socket) return;
    // Read (and drop) whatever comes, so the socket sees the server close it.
    socket.resume();
    socket.on('error', () => {});
    socket.on('close', () => {
      closed++;
      lastCloseMs = Math.round(clockMs() - started);
    });
    sockets.push(socket);
  });
  const end = performance.now() + holdMs;
  while (performance.now() < end && closed < sockets.length) await new Promise((r) => setTimeout(r, 100));
  const stillOpen = sockets.length - closed;
  for (const s of sockets) s.destroy();
  return { opened: sockets.length, closedByServer: closed, stillOpen, lastCloseMs };
}

serveRequests({
  pollAmplify,
  stalledOpen,
  stalledClose,
  replayStorm,
  channelFlood,
  wakeStart,
  wakeResult,
  slowHeaders,
});
