import type net from 'node:net';
import { nextPollDelay, POLL_DEFAULTS, resolvePoll } from '../../packages/tandem/src/client/poll-schedule';
import { HttpReader, type HttpResponse } from '../lib/http-reader';
import { numberAfter, STAMP_KEY } from '../lib/scan';
import type { SseConn } from './sse-client';
import { connect, errorSamples, freshness, noteError, now, type OpenArgs, shared, stats } from './state';

/**
 * Polls `/poll` every `intervalMs` on a fixed schedule (random phase), keep-alive, with the
 * cursor from the last answer (or from the stream, in hybrid mode) and If-None-Match.
 */
export class Poller {
  private sock: net.Socket | null = null;
  private reader: HttpReader;
  private cursor: string | undefined;
  private etag: string | undefined;
  private inflight = false;
  private timer: NodeJS.Timeout | null = null;
  /** The client's schedule for hybrid clients (client/poll-schedule.ts). */
  private readonly schedule: ReturnType<typeof resolvePoll>;
  /** A heartbeat showed the client behind `target`: the grace before polling runs. */
  private grace: NodeJS.Timeout | null = null;
  private target = 0;

  constructor(
    private readonly args: OpenArgs,
    private readonly index: number,
    private readonly stream: SseConn | null,
  ) {
    this.reader = new HttpReader((res) => this.onResponse(res));
    this.schedule = resolvePoll({ whileOpen: args.pollWhileOpen ?? false });
    if (stream && args.track) stream.onBehind = (head) => this.behind(head);
  }

  /**
   * Polls on evidence, as Tandem's client does (client/heads-watch.ts): still behind the
   * announced head after the grace (1 s), it polls at once.
   */
  private behind(head: number): void {
    this.target = Math.max(this.target, head);
    if (this.grace || shared.stopping) return;
    this.grace = setTimeout(() => {
      this.grace = null;
      if (shared.stopping || !this.stream || this.stream.have() >= this.target) return;
      stats.evidencePolls++;
      this.poll();
    }, POLL_DEFAULTS.headsGraceMs);
  }

  /**
   * Polls until `deadline`. Pollers poll every interval from a random phase, so 2 000 of them
   * spread evenly instead of arriving together. Hybrid clients follow the client's own schedule
   * (client/poll-schedule.ts): the open-stream interval while their stream is open, the closed
   * one while it is not.
   */
  start(deadline: number): void {
    const fixed = this.args.pollIntervalMs ?? 1000;
    // Null: no timer poll now (an open stream, without whileOpen); look again in a second.
    const interval = () =>
      this.stream
        ? nextPollDelay(
            { now: 0, lastPollAt: 0, streamOpen: this.stream.ready, hidden: false },
            this.schedule,
          )
        : fixed;
    const tick = () => {
      if (shared.stopping || now() > deadline) return;
      const next = interval();
      if (next !== null) this.poll();
      this.timer = setTimeout(tick, next ?? 1000);
    };
    this.timer = setTimeout(tick, Math.random() * (interval() ?? 1000));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.grace) clearTimeout(this.grace);
    this.grace = null;
    this.sock?.destroy();
  }

  private ensureSocket(): net.Socket {
    if (this.sock && !this.sock.destroyed) return this.sock;
    const sock = connect(this.args, this.index);
    this.reader = new HttpReader((res) => this.onResponse(res));
    sock.on('data', (chunk: Buffer) => {
      shared.chunkAt = now();
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
    if (this.stream) {
      // What the poll brought counts as had (the stream may bring it again later).
      for (const m of res.body.matchAll(/"offset":(\d+)/g)) {
        this.stream.polledOffset = Math.max(this.stream.polledOffset, Number(m[1]));
      }
    }
    const cursor = /"cursor":"([^"]*)"/.exec(res.body)?.[1];
    if (cursor) this.cursor = cursor;
    let at = 0;
    for (let n = 0; n < 100_000; n++) {
      at = res.body.indexOf(STAMP_KEY, at);
      if (at < 0) break;
      const stamp = numberAfter(res.body, STAMP_KEY, at);
      at += STAMP_KEY.length;
      stats.pollEvents++;
      if (!this.stream) freshness.recordMs(shared.chunkAt - stamp);
    }
  }
}
