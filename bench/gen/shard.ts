/**
 * One load-generator shard: a process holding a slice of the clients, each a raw TCP socket
 * from its own source address on 127/8 (so 20 000 connections fit in the ephemeral port
 * range). Kinds: `sse` (any SSE server), `sio` (socket.io over a hand-rolled WebSocket),
 * `poll` (Tandem's /poll with cursor and If-None-Match) and `hybrid` (SSE + poll).
 * The runner drives it over IPC; every loop here is bounded by a count or a deadline.
 */

import net from 'node:net';
import { BACKOFF_DEFAULTS, backoffDelay, jittered } from '../../packages/tandem/src/client/backoff';
import { nextPollDelay, POLL_DEFAULTS } from '../../packages/tandem/src/client/poll-schedule';
import { clockMs } from '../lib/clock';
import { Histogram } from '../lib/histogram';
import { Dechunker, HttpReader, type HttpResponse } from '../lib/http-reader';
import { serveRequests } from '../lib/proc';
import { fieldOf, numberAfter, SseFramer, STAMP_KEY } from '../lib/scan';
import { clientTextFrame, OPCODE, upgradeRequest, WsReader } from '../lib/ws';

const now = clockMs;

interface OpenArgs {
  kind: 'sse' | 'sio' | 'poll' | 'hybrid';
  host: string;
  port: number;
  /** Stream path with query, e.g. `/live/stream?channels=bench`. */
  path: string;
  /** Poll path without cursor, e.g. `/live/poll?channels=bench`. */
  pollPath?: string;
  pollIntervalMs?: number;
  count: number;
  addresses: string[];
  concurrency: number;
  /** Follow ids and offsets (Tandem streams): needed for resume checks and hybrid polls. */
  track: boolean;
  /** Reconnect dropped streams like Tandem's client: 100 ms × 1.3ⁿ, cap 2 s, full jitter. */
  reconnect: boolean;
  timeoutMs: number;
}

const stats = {
  events: 0,
  frames: 0,
  pings: 0,
  hellos: 0,
  resyncs: 0,
  notRecovered: 0,
  rxBytes: 0,
  requests: 0,
  polls: 0,
  poll200: 0,
  poll304: 0,
  pollErrors: 0,
  pollEvents: 0,
  closes: 0,
  errors: 0,
  reconnects: 0,
  /** Reconnect attempts that failed (refused, reset, non-200) and were retried. */
  retries: 0,
  lastResumeAt: 0,
  dup: 0,
  gapLost: 0,
};
const latency = new Histogram();
const freshness = new Histogram();
/** From a stream's drop to its resumed hello. */
const resumeGap = new Histogram();
const errorSamples: string[] = [];

function noteError(e: unknown): void {
  stats.errors++;
  if (errorSamples.length < 5) errorSamples.push(e instanceof Error ? e.message : String(e));
}

/** Receive time of the chunk being processed: one clock read per chunk, not per frame. */
let chunkAt = 0;
let stopping = false;
const streams: SseConn[] = [];
const sios: SioConn[] = [];
const pollers: Poller[] = [];

function connect(args: OpenArgs, i: number): net.Socket {
  const sock = net.connect({
    host: args.host,
    port: args.port,
    localAddress: args.addresses[i % args.addresses.length],
  });
  sock.setNoDelay(true);
  return sock;
}

class SseConn {
  sock: net.Socket | null = null;
  lastId: string | undefined;
  lastOffset = -1;
  epoch = '';
  attempts = 0;
  droppedAt = 0;
  /** Set by `tandem:bye`: the window the first reconnect is spread over. */
  private byeWindowMs: number | undefined;
  /** Whether the current stream got its hello (an established stream, not a failed attempt). */
  private established = false;
  ready = false;
  private framer: SseFramer;
  private dechunker: Dechunker | null = null;
  private head: Buffer | null = null;
  private headDone = false;

  constructor(
    private readonly args: OpenArgs,
    private readonly index: number,
  ) {
    const track = args.track;
    this.framer = new SseFramer({
      onStamped: (stamp, frame) => {
        stats.events++;
        latency.recordMs(chunkAt - stamp);
        if (!track) return;
        const offset = numberAfter(frame, '"offset":');
        if (this.lastOffset >= 0) {
          if (offset <= this.lastOffset) stats.dup++;
          else stats.gapLost += offset - this.lastOffset - 1;
        }
        if (offset > this.lastOffset) this.lastOffset = offset;
        this.lastId = fieldOf(frame, 'id') ?? this.lastId;
      },
      onOther: (frame) => {
        stats.frames++;
        if (frame.includes('tandem:ping')) stats.pings++;
        else if (frame.includes('tandem:hello')) this.onHello(frame);
        else if (frame.includes('tandem:resync')) stats.resyncs++;
        else if (frame.includes('tandem:bye')) {
          const window = numberAfter(frame, '"reconnectMs":');
          this.byeWindowMs = Number.isNaN(window) ? BACKOFF_DEFAULTS.dropWindowMs : window;
        }
      },
    });
  }

  private onHello(frame: string): void {
    stats.hellos++;
    if (!this.args.track) return;
    this.lastId = fieldOf(frame, 'id') ?? this.lastId;
    const head = numberAfter(frame, '"head":');
    const epoch = /"epoch":"([0-9a-z]+)"/.exec(frame)?.[1] ?? '';
    if (this.lastOffset < 0) {
      this.lastOffset = head;
      this.epoch = epoch;
    } else {
      // A resume: the stream must say it recovered; anything else is a lost continuity.
      stats.reconnects++;
      stats.lastResumeAt = chunkAt;
      if (this.droppedAt > 0) resumeGap.recordMs(chunkAt - this.droppedAt);
      this.droppedAt = 0;
      if (!frame.includes('"recovered":true') || epoch !== this.epoch) stats.notRecovered++;
    }
    this.attempts = 0;
    this.established = true;
  }

  /** Resolves once the response head (200) arrived. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = connect(this.args, this.index);
      this.sock = sock;
      this.head = null;
      this.headDone = false;
      this.dechunker = null;
      this.framer.reset();
      const timer = setTimeout(() => {
        reject(new Error('stream open timed out'));
        sock.destroy();
      }, this.args.timeoutMs);
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      sock.on('connect', () => {
        const lastId = this.lastId ? `Last-Event-ID: ${this.lastId}\r\n` : '';
        sock.write(
          `GET ${this.args.path} HTTP/1.1\r\nHost: ${this.args.host}:${this.args.port}\r\n` +
            `Accept: text/event-stream\r\nCache-Control: no-cache\r\n${lastId}\r\n`,
        );
        stats.requests++;
      });
      sock.on('data', (chunk: Buffer) => {
        chunkAt = now();
        stats.rxBytes += chunk.length;
        if (!this.headDone) {
          const buf: Buffer = this.head ? Buffer.concat([this.head, chunk]) : chunk;
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) {
            this.head = buf;
            return;
          }
          const head = buf.toString('latin1', 0, end);
          const status = Number(head.slice(9, 12));
          if (status !== 200) {
            settle(new Error(`stream answered ${status}`));
            sock.destroy();
            return;
          }
          this.headDone = true;
          this.ready = true;
          if (!this.args.track && this.droppedAt > 0) {
            // Without resume (the bare floor), a reconnect is done once the stream answers.
            stats.reconnects++;
            stats.lastResumeAt = chunkAt;
            resumeGap.recordMs(chunkAt - this.droppedAt);
            this.droppedAt = 0;
            this.established = true;
          }
          if (/transfer-encoding:\s*chunked/i.test(head)) this.dechunker = new Dechunker();
          settle();
          chunk = buf.subarray(end + 4);
          if (chunk.length === 0) return;
        }
        if (this.dechunker) {
          // The response ended (e.g. after tandem:bye) while the keep-alive socket stays open:
          // for an SSE client that is a disconnect, so drop the socket and reconnect.
          if (!this.dechunker.push(chunk, (data) => this.framer.push(data))) sock.destroy();
        } else this.framer.push(chunk);
      });
      sock.on('error', (e) => {
        if (!settled) settle(e);
        else noteError(e);
      });
      sock.on('close', () => {
        settle(new Error('closed before the response'));
        if (this.sock !== sock) return;
        this.ready = false;
        stats.closes++;
        if (this.droppedAt === 0) this.droppedAt = now();
        if (this.args.reconnect && !stopping) this.scheduleReconnect();
      });
    });
  }

  /**
   * Reconnects as Tandem's client does (client/backoff.ts, client.ts): after a bye or the drop
   * of an established stream, the first return is spread uniformly over the bye's
   * `reconnectMs` or the drop window (2 s), since every client of the server drops at once;
   * failed attempts then back off over 100 ms × 1.3ⁿ, capped at 2 s, with full jitter.
   */
  private scheduleReconnect(): void {
    let delay: number;
    if (this.established || this.byeWindowMs !== undefined) {
      delay = jittered(this.byeWindowMs ?? BACKOFF_DEFAULTS.dropWindowMs, BACKOFF_DEFAULTS, Math.random);
    } else {
      delay = backoffDelay(this.attempts, BACKOFF_DEFAULTS);
      this.attempts++;
    }
    this.established = false;
    this.byeWindowMs = undefined;
    if (this.attempts > 50) return; // bounded: give up after 50 failed attempts (counted as not resumed)
    setTimeout(() => {
      if (stopping) return;
      this.open().catch((e) => {
        stats.retries++;
        noteError(e);
      });
    }, delay);
  }

  /** The client's cursor: the last event id, or the head position from hello. */
  cursor(): string | undefined {
    if (this.lastId) return this.lastId;
    if (!this.epoch) return undefined;
    return `t1~${channelHashOf('bench')}.${this.epoch}.${Math.max(0, this.lastOffset).toString(36)}`;
  }
}

/** FNV-1a of the channel name in base 36, as the cursor codec writes it. */
function channelHashOf(channel: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < channel.length; i++) {
    h ^= channel.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

class SioConn {
  sock: net.Socket | null = null;
  ready = false;

  constructor(
    private readonly args: OpenArgs,
    private readonly index: number,
  ) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = connect(this.args, this.index);
      this.sock = sock;
      const timer = setTimeout(() => {
        reject(new Error('socket.io open timed out'));
        sock.destroy();
      }, this.args.timeoutMs);
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const reader = new WsReader({
        onUpgrade: (status) => {
          if (status !== 101) {
            settle(new Error(`upgrade answered ${status}`));
            sock.destroy();
          }
        },
        onMessage: (opcode, payload) => {
          if (opcode === OPCODE.ping) return; // socket.io uses engine.io pings, not WS pings
          if (opcode !== OPCODE.text) return;
          const text = payload.toString('latin1');
          const type = text.charCodeAt(0);
          if (type === 52 /* '4' message */) {
            if (text.charCodeAt(1) === 50 /* '2' event */) {
              const stamp = numberAfter(text, STAMP_KEY);
              if (!Number.isNaN(stamp)) {
                stats.events++;
                latency.recordMs(chunkAt - stamp);
              } else stats.frames++;
            } else if (text.charCodeAt(1) === 48 /* '0' connect ack */) {
              this.ready = true;
              stats.hellos++;
              settle();
            } else stats.frames++;
          } else if (type === 48 /* '0' engine open */) {
            sock.write(clientTextFrame('40'));
          } else if (type === 50 /* '2' ping */) {
            stats.pings++;
            sock.write(clientTextFrame('3'));
          } else stats.frames++;
        },
      });
      sock.on('connect', () => {
        sock.write(
          upgradeRequest(`${this.args.host}:${this.args.port}`, '/socket.io/?EIO=4&transport=websocket'),
        );
        stats.requests++;
      });
      sock.on('data', (chunk: Buffer) => {
        chunkAt = now();
        stats.rxBytes += chunk.length;
        reader.push(chunk);
      });
      sock.on('error', (e) => {
        if (!settled) settle(e);
        else noteError(e);
      });
      sock.on('close', () => {
        settle(new Error('closed before connect'));
        this.ready = false;
        stats.closes++;
      });
    });
  }
}

/**
 * Polls `/poll` every `intervalMs` on a fixed schedule (random phase), keep-alive, with the
 * cursor from the last answer (or from the stream, in hybrid mode) and If-None-Match.
 */
class Poller {
  private sock: net.Socket | null = null;
  private reader: HttpReader;
  private cursor: string | undefined;
  private etag: string | undefined;
  private inflight = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly args: OpenArgs,
    private readonly index: number,
    private readonly stream: SseConn | null,
  ) {
    this.reader = new HttpReader((res) => this.onResponse(res));
  }

  /**
   * Polls until `deadline`. Pollers poll every interval from a random phase, so 2 000 of them
   * spread evenly instead of arriving together. Hybrid clients follow the client's own schedule
   * (client/poll-schedule.ts): the open-stream interval while their stream is open, the closed
   * one while it is not.
   */
  start(deadline: number): void {
    const fixed = this.args.pollIntervalMs ?? 1000;
    const interval = () =>
      this.stream
        ? (nextPollDelay(
            { now: 0, lastPollAt: 0, streamOpen: this.stream.ready, hidden: false },
            POLL_DEFAULTS,
          ) ?? fixed)
        : fixed;
    const tick = () => {
      if (stopping || now() > deadline) return;
      this.poll();
      this.timer = setTimeout(tick, interval());
    };
    this.timer = setTimeout(tick, Math.random() * (this.stream ? interval() : fixed));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.sock?.destroy();
  }

  private ensureSocket(): net.Socket {
    if (this.sock && !this.sock.destroyed) return this.sock;
    const sock = connect(this.args, this.index);
    this.reader = new HttpReader((res) => this.onResponse(res));
    sock.on('data', (chunk: Buffer) => {
      chunkAt = now();
      stats.rxBytes += chunk.length;
      try {
        this.reader.push(chunk);
      } catch (e) {
        noteError(e);
        sock.destroy();
      }
    });
    sock.on('error', (e) => noteError(e));
    sock.on('close', () => {
      if (this.sock === sock) this.sock = null;
      this.inflight = false;
    });
    this.sock = sock;
    return sock;
  }

  private poll(): void {
    if (this.inflight) return; // still waiting for the last answer: a real client would too
    const cursor = this.stream ? (this.stream.cursor() ?? this.cursor) : this.cursor;
    const etag = this.stream ? (cursor ? `"${cursor}"` : undefined) : this.etag;
    const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const ifNoneMatch = etag ? `If-None-Match: ${etag}\r\n` : '';
    this.inflight = true;
    stats.polls++;
    stats.requests++;
    this.ensureSocket().write(
      `GET ${this.args.pollPath}${query} HTTP/1.1\r\nHost: ${this.args.host}:${this.args.port}\r\n` +
        `Accept: application/json\r\n${ifNoneMatch}\r\n`,
    );
  }

  private onResponse(res: HttpResponse): void {
    this.inflight = false;
    if (res.status === 304) {
      stats.poll304++;
      return;
    }
    if (res.status !== 200) {
      stats.pollErrors++;
      if (errorSamples.length < 5) errorSamples.push(`poll ${res.status}: ${res.body.slice(0, 200)}`);
      return;
    }
    stats.poll200++;
    this.etag = res.etag;
    const cursor = /"cursor":"([^"]*)"/.exec(res.body)?.[1];
    if (cursor) this.cursor = cursor;
    let at = 0;
    for (let n = 0; n < 100_000; n++) {
      at = res.body.indexOf(STAMP_KEY, at);
      if (at < 0) break;
      const stamp = numberAfter(res.body, STAMP_KEY, at);
      at += STAMP_KEY.length;
      stats.pollEvents++;
      if (!this.stream) freshness.recordMs(chunkAt - stamp);
    }
  }
}

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
  stopping = false;
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
  stopping = true;
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
      if (streams.every((s) => s.lastOffset >= offset)) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  },
});
