import {
  type ByeReason,
  cursorEntry,
  isEmptyEpoch,
  joinCursor,
  type LiveEvent,
  type ResyncReason,
} from '../protocol';
import { concatBytes } from './bytes';
import { byeFrame, type EncodedEvent, epochFrame, follows, idLine, resyncFrame } from './encode';
import { type Replay, type ReplayItem, type ReplayProgress, replayChunkBytes, STALLED_BEATS } from './replay';
import type { SharedBytes, Sink } from './sink';
import { type Gate, nextTask, SLICE_MS } from './slices';

/** What a connection needs from its hub. */
export interface ConnectionHost {
  readonly maxBufferedBytes: number;
  /** Replays writing at once (see `Gate`). */
  readonly replays: Gate;
  /** The connection has bytes pending: flush it at the end of this tick. */
  markDirty(connection: Connection): void;
  /** The connection ended; remove every trace of it. Called exactly once. */
  released(connection: Connection, reason: ByeReason | 'aborted'): void;
  resynced(reason: ResyncReason, count: number): void;
  /** Whether a log whose first event is `first` is the first since the channel was seen `empty`. */
  firstSince(empty: string, first: LiveEvent): boolean;
}

type State = 'starting' | 'live' | 'closed';

type Buffered = ReplayItem[];
/**
 * What an idle connection holds instead of its own empty queues: tens of thousands of idle
 * streams must not keep an array each. Never pushed to: `enqueue` and `receive` replace it first.
 */
const NOTHING = Object.freeze([]) as unknown as never[];

/**
 * One open stream. It tracks the position on each of its channels (so nothing is sent twice
 * and a hole or epoch change becomes `resync`), queues bytes per tick for one coalesced write,
 * and ends on backpressure, bye or abort. It owns no timer: the hub's shared heartbeat and
 * flush drive it.
 */
export class Connection {
  state: State = 'starting';
  /** Whether bytes were written since the last heartbeat. */
  active = false;
  /** The heartbeat beat that last told this stream its channels' heads (see heartbeat.ts). */
  headsBeat = 0;
  /** When the stream ends with `tandem:bye` `rotate` (`maxStreamDurationMs`), ms. */
  rotateAt = Number.POSITIVE_INFINITY;
  /** Live events that arrived while the replay was written, in arrival order. */
  private startBuffer: Buffered = NOTHING;
  private startBufferBytes = 0;
  private pending: Uint8Array[] = NOTHING;
  private pendingBytes = 0;
  private sink: Sink | null = null;
  private replaying: ReplayProgress | null = null;
  readonly channels: readonly string[];
  readonly single: boolean;
  /** A compact stream's channel id per slot, set by the fan-out (protocol/compact.ts); else null. */
  compactIds: string[] | null = null;
  /**
   * Where the stream is on each channel, three cells per slot: epoch, offset, and the cursor
   * entry of that position. One array rather than three: tens of thousands of idle streams
   * keep it.
   */
  private readonly at: (string | number)[];

  constructor(
    readonly id: string,
    readonly subject: string,
    readonly expiresAt: number,
    channels: readonly string[],
    private readonly host: ConnectionHost,
  ) {
    this.channels = channels;
    this.single = channels.length === 1;
    // Placeholders until the resume plan sets each channel's start with `position`.
    this.at = new Array(channels.length * 3);
    for (let slot = 0; slot < channels.length; slot++) this.position(slot, '', 0, '');
  }

  /** Sets where a channel is; the resume plan calls it for each channel before `start`. */
  position(slot: number, epoch: string, offset: number, entry: string): void {
    const i = slot * 3;
    this.at[i] = epoch;
    this.at[i + 1] = offset;
    this.at[i + 2] = entry;
  }

  private epochOf(slot: number): string {
    return this.at[slot * 3] as string;
  }

  private offsetOf(slot: number): number {
    return this.at[slot * 3 + 1] as number;
  }

  /** Each channel's cursor entry at its current position. */
  private entries(): string[] {
    return this.channels.map((_, slot) => this.at[slot * 3 + 2] as string);
  }

  get cursor(): string {
    return joinCursor(this.entries());
  }

  /** Takes a batch of live events for one channel (fan-out calls this once per tick per channel). */
  receive(slot: number, batch: readonly EncodedEvent[], shared: SharedBytes, contiguous: boolean): number {
    if (this.state === 'closed') return 0;
    if (this.state === 'starting') {
      if (this.startBuffer.length === 0) this.startBuffer = [];
      for (const encoded of batch) {
        this.startBuffer.push({ slot, encoded });
        this.startBufferBytes += encoded.body.length;
      }
      // A client that cannot take its replay fast enough must not grow the server: cut it.
      if (this.startBufferBytes > this.host.maxBufferedBytes) this.abort('slow_consumer');
      return 0;
    }
    const first = batch[0]!.event;
    const fast = (this.single || this.compactIds !== null) && contiguous;
    const epoch = this.epochOf(slot);
    if (
      fast &&
      follows(first, epoch, this.offsetOf(slot), this.compactIds !== null) &&
      // The first log after the stream saw the channel empty: shared only if the broker says it
      // is the first since (else `accept` sends the resync).
      (first.epoch === epoch || this.host.firstSince(epoch, first))
    ) {
      // Fast path: the whole frame (`id:` included when classic) is shared by every subscriber.
      const last = batch[batch.length - 1]!;
      this.position(slot, first.epoch, last.event.offset, last.entry);
      this.send(shared);
      return batch.length;
    }
    let delivered = 0;
    for (const encoded of batch) if (this.accept(slot, encoded)) delivered++;
    return delivered;
  }

  /**
   * Delivers one event unless already seen. A new epoch or a hole means continuity is lost:
   * `resync` first, then carry on from this event.
   */
  accept(slot: number, encoded: EncodedEvent): boolean {
    const { event } = encoded;
    const newEpoch = event.epoch !== this.epochOf(slot);
    if (newEpoch) {
      // The channel had no log when the stream started (listener attached first): the first
      // event of its first log follows offset 0 of the empty epoch.
      // Asked of the broker, as a resume is: a log made after the broker lost the first one is
      // not it (a Redis flushed while this stream waited).
      const empty = this.epochOf(slot);
      const first =
        event.offset === 1 &&
        this.offsetOf(slot) === 0 &&
        isEmptyEpoch(empty) &&
        this.host.firstSince(empty, event);
      if (!first) this.resync([this.channels[slot]!], 'epoch');
    } else if (event.offset <= this.offsetOf(slot)) {
      return false;
    } else if (event.offset > this.offsetOf(slot) + 1) {
      this.resync([this.channels[slot]!], 'gap');
    }
    this.position(slot, event.epoch, event.offset, encoded.entry);
    if (this.compactIds) this.enqueue(encoded.compactAfter(this.compactIds[slot]!, newEpoch));
    else if (this.single) this.enqueue(encoded.full);
    else {
      this.enqueue(idLine(this.entries()));
      this.enqueue(encoded.body);
    }
    return true;
  }

  resync(channels: string[], reason: ResyncReason): void {
    this.enqueue(resyncFrame(channels, reason));
    this.host.resynced(reason, channels.length);
  }

  enqueue(chunk: Uint8Array): void {
    if (this.state === 'closed') return;
    if (this.pending.length === 0) {
      this.host.markDirty(this);
      this.pending = [];
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
  }

  /**
   * Sends bytes shared with other streams: with nothing else queued this tick, at once and in
   * the form the sink takes (for Node, one HTTP/1.1 chunk built once for all), else after the
   * queue, in this tick's one write.
   */
  send(shared: SharedBytes): void {
    if (this.state !== 'live' || this.pending.length > 0) {
      this.enqueue(shared.plain);
      return;
    }
    const sink = this.sink!;
    this.written(sink, sink.writeShared(shared));
  }

  /** Writes what is pending as one chunk; the sink joins the parts, copying them at most once. */
  flush(): void {
    const { sink, pending: parts, pendingBytes: bytes } = this;
    if (this.state === 'closed' || !sink || parts.length === 0) return;
    this.pending = NOTHING;
    this.pendingBytes = 0;
    if (parts.length === 1) this.write(parts[0]!);
    else this.written(sink, sink.writeParts?.(parts, bytes) ?? sink.write(concatBytes(parts, bytes)));
  }

  /** Writes one chunk; cuts the connection if the client is too far behind. */
  private write(chunk: Uint8Array): void {
    const sink = this.sink!;
    this.written(sink, sink.write(chunk));
  }

  /** After a write: cuts the connection if the sink refused it or its client is too far behind. */
  private written(sink: Sink, accepted: boolean): void {
    this.active = true;
    if (!accepted) this.abort('aborted');
    else if (this.sink === sink && sink.buffered() > this.host.maxBufferedBytes) this.abort('slow_consumer');
  }

  /**
   * Attaches the response and writes the start: `prelude` (retry, hello, resyncs), then the
   * replay, page by page, pausing whenever the client falls behind and yielding to other work
   * every `SLICE_MS`, then the live events that arrived meanwhile (duplicates dropped by
   * offset). Then the connection is live. A client that reads nothing for `STALLED_BEATS`
   * heartbeats meanwhile is cut (`replayBeat`).
   */
  async start(sink: Sink, prelude: Uint8Array, replay: Replay) {
    if (this.state === 'closed') {
      sink.destroy();
      return;
    }
    this.sink = sink;
    const progress: ReplayProgress = { written: false, buffered: 0, stalled: 0 };
    this.replaying = progress;
    this.enqueue(prelude);
    const chunkBytes = replayChunkBytes(this.host.maxBufferedBytes);
    const pause = this.host.maxBufferedBytes >> 1;
    const gate = this.host.replays;
    // A place among the replays writing now; given back whenever this one waits.
    let inside = gate.tryEnter();
    const enter = async () => {
      if (!gate.tryEnter()) await gate.wait();
      inside = true;
    };
    const leave = () => {
      if (inside) gate.leave();
      inside = false;
    };
    let sliceStart = performance.now();
    /** Writes the pending chunk; waits for the client or its turn. False once closed. */
    const chunk = async (): Promise<boolean> => {
      this.flush();
      progress.written = true;
      if (sink.buffered() > pause) {
        leave();
        await sink.drained();
      } else if (performance.now() - sliceStart >= SLICE_MS) {
        leave();
        await nextTask();
      } else if (inside) {
        return !this.isClosed();
      }
      if (this.isClosed()) return false;
      await enter();
      sliceStart = performance.now();
      return !this.isClosed();
    };
    try {
      if (!inside) await enter();
      for (let page: readonly ReplayItem[] | null = replay.first; page; ) {
        for (const { slot, encoded } of page) {
          this.accept(slot, encoded);
          if (this.pendingBytes >= chunkBytes && !(await chunk())) return;
        }
        if (!replay.next) break;
        leave();
        page = await replay.next(this);
        if (this.isClosed()) return;
        await enter();
      }
      // Drain the buffered live events; more may arrive while we wait, so loop until empty.
      while (this.startBuffer.length > 0) {
        const buffered = this.startBuffer;
        this.startBuffer = NOTHING;
        this.startBufferBytes = 0;
        for (const { slot, encoded } of buffered) this.accept(slot, encoded);
        if (this.pendingBytes >= chunkBytes && !(await chunk())) return;
      }
    } finally {
      leave();
    }
    if (this.isClosed()) return;
    this.replaying = null;
    this.state = 'live';
    this.flush();
  }

  /**
   * A heartbeat while the replay is written: the client made progress if a chunk went out or
   * its unsent bytes went down. One that read nothing for `STALLED_BEATS` beats is cut, so a
   * stalled replay holds its buffers for seconds, not for as long as the socket stays open.
   */
  replayBeat(): void {
    const progress = this.replaying;
    const sink = this.sink;
    if (!progress || !sink) return;
    const buffered = sink.buffered();
    const moved = progress.written || buffered === 0 || buffered < progress.buffered;
    progress.stalled = moved ? 0 : progress.stalled + 1;
    progress.written = false;
    progress.buffered = buffered;
    if (progress.stalled >= STALLED_BEATS) this.abort('slow_consumer');
  }

  /**
   * The rest of a channel's replay is gone (pruned, or the log lost, while it was written):
   * `resync`, then carry on from `head` of `epoch` with the live events.
   */
  skip(slot: number, reason: ResyncReason, epoch: string, head: number): void {
    const channel = this.channels[slot]!;
    this.resync([channel], reason);
    if (this.compactIds && epoch !== this.epochOf(slot)) this.enqueue(epochFrame(channel, epoch));
    this.position(slot, epoch, head, cursorEntry(channel, { epoch, offset: head }));
  }

  /** Re-reads the state after an await (it may have closed meanwhile). */
  isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Ends gracefully with `tandem:bye`; a `shutdown` bye closes the connection too (see Sink). */
  bye(reason: ByeReason, reconnectMs?: number): void {
    if (this.state === 'closed') return;
    const sink = this.sink;
    const bye = byeFrame(reason, reconnectMs);
    if (this.pending.length === 0) {
      // The usual case, and thousands at once: the bye frame, framed once for all of them.
      this.release(reason);
      sink?.endShared(bye, reason === 'shutdown');
      return;
    }
    // Whatever is pending and the bye go out with the end of the response, in one write.
    this.enqueue(bye.plain);
    const last = concatBytes(this.pending, this.pendingBytes);
    this.release(reason);
    sink?.end(last, reason === 'shutdown');
  }

  /** Drops the connection at once (slow consumer, write error, client gone). */
  abort(reason: ByeReason | 'aborted'): void {
    if (this.state === 'closed') return;
    const sink = this.sink;
    this.release(reason);
    sink?.destroy();
  }

  private release(reason: ByeReason | 'aborted'): void {
    this.state = 'closed';
    this.pending = NOTHING;
    this.pendingBytes = 0;
    this.startBuffer = NOTHING;
    this.replaying = null;
    this.sink = null;
    this.host.released(this, reason);
  }
}
