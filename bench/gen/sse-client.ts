/** A raw SSE client: hand-written GET, chunked decoding, frames split at the blank line. */

import type net from 'node:net';
import { BACKOFF_DEFAULTS, backoffDelay, jittered } from '../../packages/tandem/src/client/backoff';
import { Dechunker } from '../lib/http-reader';
import { fieldOf, numberAfter, SseFramer } from '../lib/scan';
import {
  connect,
  latency,
  noteError,
  now,
  type OpenArgs,
  resumeGap,
  settleOpen,
  shared,
  stats,
} from './state';

const EPOCH = /"epoch":"([0-9a-z]+)"/;
/** The benchmark channel's head in a `tandem:ping`: `"heads":{"bench":["<epoch>",<offset>]}`. */
const HEAD = /"heads":\{[^}]*"bench":\["([0-9a-z]+)",(\d+)\]/;

export class SseConn {
  sock: net.Socket | null = null;
  lastId: string | undefined;
  lastOffset = -1;
  epoch = '';
  /** Set by a hello: the next event's envelope names the epoch (see onStamped). */
  private epochFromEvent = false;
  /** The highest offset a poll brought (hybrid clients): what the client has is the larger. */
  polledOffset = -1;
  /** Set by a hybrid client's poller: a heartbeat announced a head beyond what the client has. */
  onBehind: ((head: number) => void) | null = null;
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
        stats.eventBytes += frame.length + 2;
        latency.recordMs(shared.chunkAt - stamp);
        if (!track) return;
        const offset = numberAfter(frame, '"offset":');
        if (this.lastOffset >= 0) {
          if (offset <= this.lastOffset) stats.dup++;
          else stats.gapLost += offset - this.lastOffset - 1;
        }
        if (offset > this.lastOffset) this.lastOffset = offset;
        this.lastId = fieldOf(frame, 'id') ?? this.lastId;
        // A channel with no log yet has an epoch of its own in the hello; the first event
        // after a hello gives the epoch of the log the stream follows.
        if (this.epochFromEvent) {
          this.epochFromEvent = false;
          this.epoch = EPOCH.exec(frame)?.[1] ?? this.epoch;
        }
      },
      onOther: (frame) => {
        stats.frames++;
        if (frame.includes('tandem:ping')) {
          stats.pings++;
          if (this.onBehind) this.heads(frame);
        } else if (frame.includes('tandem:hello')) this.onHello(frame);
        else if (frame.includes('tandem:resync')) stats.resyncs++;
        else if (frame.includes('tandem:bye')) {
          const window = numberAfter(frame, '"reconnectMs":');
          this.byeWindowMs = Number.isNaN(window) ? BACKOFF_DEFAULTS.dropWindowMs : window;
        }
      },
    });
  }

  /** The last offset the client has, by stream or by poll. */
  have(): number {
    return Math.max(this.lastOffset, this.polledOffset);
  }

  /** A heartbeat's heads, read as Tandem's client does (client/heads-watch.ts). */
  private heads(frame: string): void {
    const match = HEAD.exec(frame);
    if (!match || match[1] !== this.epoch) return;
    const head = Number(match[2]);
    if (head > this.have()) this.onBehind?.(head);
  }

  private onHello(frame: string): void {
    stats.hellos++;
    if (!this.args.track) return;
    this.lastId = fieldOf(frame, 'id') ?? this.lastId;
    const head = numberAfter(frame, '"head":');
    const epoch = EPOCH.exec(frame)?.[1] ?? '';
    if (this.lastOffset < 0) {
      this.lastOffset = head;
      this.epoch = epoch;
    } else {
      // A resume: the stream must say it recovered; anything else is a lost continuity.
      stats.reconnects++;
      stats.lastResumeAt = shared.chunkAt;
      if (this.droppedAt > 0) resumeGap.recordMs(shared.chunkAt - this.droppedAt);
      this.droppedAt = 0;
      if (!frame.includes('"recovered":true') || epoch !== this.epoch) stats.notRecovered++;
    }
    this.epochFromEvent = true;
    this.attempts = 0;
    this.established = true;
  }

  /** Resolves once the response head (200) arrived. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = connect(this.args, this.index, (chunk) => this.onData(sock, settle, chunk));
      this.sock = sock;
      this.head = null;
      this.headDone = false;
      this.dechunker = null;
      this.framer.reset();
      const settle = settleOpen(sock, this.args.timeoutMs, 'stream', resolve, reject);
      sock.on('connect', () => {
        const lastId = this.lastId ? `Last-Event-ID: ${this.lastId}\r\n` : '';
        sock.write(
          `GET ${this.args.path} HTTP/1.1\r\nHost: ${this.args.host}:${this.args.port}\r\n` +
            `Accept: text/event-stream\r\nCache-Control: no-cache\r\n${lastId}\r\n`,
        );
        stats.requests++;
      });
      sock.on('close', () => {
        settle(new Error('closed before the response'));
        if (this.sock !== sock) return;
        this.ready = false;
        stats.closes++;
        if (this.droppedAt === 0) this.droppedAt = now();
        if (this.args.reconnect && !shared.stopping) this.scheduleReconnect();
      });
    });
  }

  /** One read of the stream's socket (a view that the next read overwrites). */
  private onData(sock: net.Socket, settle: (error?: Error) => void, chunk: Buffer): void {
    shared.chunkAt = now();
    stats.rxBytes += chunk.length;
    if (!this.headDone) {
      const buf: Buffer = this.head ? Buffer.concat([this.head, chunk]) : chunk;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        // `chunk` is a view of the shard's read buffer: keep a copy.
        this.head = Buffer.from(buf);
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
      if (!this.args.track) {
        // Without resume (the bare floor), the stream is established once it answers.
        this.established = true;
        if (this.droppedAt > 0) {
          stats.reconnects++;
          stats.lastResumeAt = shared.chunkAt;
          resumeGap.recordMs(shared.chunkAt - this.droppedAt);
          this.droppedAt = 0;
        }
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
      if (shared.stopping) return;
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
