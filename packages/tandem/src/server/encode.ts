import { jsonOf } from '../broker';
import {
  type ByeReason,
  CONTROL_EVENTS,
  cursorEntry,
  encodeCompactFrame,
  encodeFrame,
  isEmptyEpoch,
  joinCursor,
  type LiveEvent,
  type PingPayload,
  type ResyncReason,
} from '../protocol';
import { concatBytes, utf8 } from './bytes';
import { SharedBytes } from './sink';

/**
 * An event serialised once for every subscriber: `body` is its `event:` and `data:` lines,
 * `full` the whole frame including the `id:` of a single-channel cursor (built on first use). A
 * connection on one channel writes `full` as is; a connection on several writes its own `id:`
 * line, then `body`. A compact stream writes `compact(id)`, whatever its channels.
 */
export class EncodedEvent {
  private fullFrame: Uint8Array | undefined;
  private compactFrame: Uint8Array | undefined;
  /** The channel id `compactFrame` names: a hub's own (two hubs of a process may differ). */
  private compactId = '';
  /** `tandem:epoch` and the compact frame it was built with. */
  private announced: Uint8Array | undefined;
  private announcedFor: Uint8Array | undefined;

  constructor(
    readonly event: LiveEvent,
    /** This channel's part of a cursor at this event. */
    readonly entry: string,
    readonly body: Uint8Array,
  ) {}

  get full(): Uint8Array {
    this.fullFrame ??= concatBytes([utf8(`id: ${joinCursor([this.entry])}\n`), this.body]);
    return this.fullFrame;
  }

  /** The compact frame naming the channel by `id` (protocol/compact.ts), built on first use. */
  compact(id: string): Uint8Array {
    if (this.compactFrame === undefined || this.compactId !== id) {
      const { event } = this;
      const json = jsonOf(event.data);
      this.compactFrame = utf8(
        encodeCompactFrame(event.type, { id, offset: event.offset, ts: event.ts, json }),
      );
      this.compactId = id;
    }
    return this.compactFrame;
  }

  /**
   * The compact frame, after the `tandem:epoch` of its log when the stream was in another epoch.
   * That pair is built once too: a channel's first publish reaches all its streams with it.
   */
  compactAfter(id: string, newEpoch: boolean): Uint8Array {
    const frame = this.compact(id);
    if (!newEpoch) return frame;
    if (this.announcedFor !== frame) {
      this.announced = concatBytes([epochFrame(this.event.channel, this.event.epoch), frame]);
      this.announcedFor = frame;
    }
    return this.announced!;
  }
}

const cache = new WeakMap<LiveEvent, EncodedEvent>();

function envelopeJson(event: LiveEvent): string {
  // Channel and epoch names are from JSON-safe alphabets, so only `data` needs stringifying.
  return `{"channel":"${event.channel}","offset":${event.offset},"epoch":"${event.epoch}","ts":${event.ts},"data":${jsonOf(event.data)}}`;
}

/** An event as a poll answer lists it (`LiveEvent` as JSON), reusing its data's JSON. */
export function eventJson(event: LiveEvent): string {
  return `{"channel":"${event.channel}","type":${JSON.stringify(event.type)},"offset":${event.offset},"epoch":"${event.epoch}","ts":${event.ts},"data":${jsonOf(event.data)}}`;
}

/** Encodes an event once; later calls with the same event object return the same buffers. */
export function encodeEvent(event: LiveEvent): EncodedEvent {
  let encoded = cache.get(event);
  if (encoded) return encoded;
  const entry = cursorEntry(event.channel, { epoch: event.epoch, offset: event.offset });
  // encodeFrame refuses a type with CR/LF/NUL, so an event from another node cannot inject.
  const body = encodeFrame({ event: event.type, data: envelopeJson(event) });
  encoded = new EncodedEvent(event, entry, utf8(body));
  cache.set(event, encoded);
  return encoded;
}

/** The `id:` line of a multi-channel cursor. */
export function idLine(entries: readonly string[]): Uint8Array {
  return utf8(`id: ${joinCursor(entries)}\n`);
}

/**
 * Whether `event` comes right after position (`epoch`, `offset`). The first event of a channel's
 * first log follows offset 0 of its empty epoch, except on a compact stream, which must first
 * be told the log's epoch (`compactAfter`).
 */
export function follows(event: LiveEvent, epoch: string, offset: number, compact: boolean): boolean {
  if (event.offset !== offset + 1) return false;
  return event.epoch === epoch || (!compact && event.offset === 1 && isEmptyEpoch(epoch));
}

/** Compact wire: `tandem:epoch`, a channel's next events belong to `epoch`. */
export function epochFrame(channel: string, epoch: string): Uint8Array {
  return controlFrame(CONTROL_EVENTS.epoch, { channel, epoch });
}

const resyncFrames = new Map<string, Uint8Array>();

/**
 * `tandem:resync` for `channels`: one channel's frame is built once per reason, since a log
 * lost under thousands of streams tells each of them in the same tick.
 */
export function resyncFrame(channels: string[], reason: ResyncReason): Uint8Array {
  if (channels.length !== 1) return controlFrame(CONTROL_EVENTS.resync, { channels, reason });
  const key = `${reason}:${channels[0]}`;
  let frame = resyncFrames.get(key);
  if (!frame) {
    frame = controlFrame(CONTROL_EVENTS.resync, { channels, reason });
    if (resyncFrames.size >= 1024) resyncFrames.clear();
    resyncFrames.set(key, frame);
  }
  return frame;
}

export function controlFrame(name: string, payload: unknown, id?: string): Uint8Array {
  return utf8(encodeFrame({ id, event: name, data: JSON.stringify(payload) }));
}

const byeFrames = new Map<string, SharedBytes>();

/**
 * The `tandem:bye` frame for a reason, encoded (and framed) once: `disconnect` and `close` end
 * thousands of streams in one call, and each must not pay for its own JSON and Buffers.
 */
export function byeFrame(reason: ByeReason, reconnectMs?: number): SharedBytes {
  const key = `${reason}:${reconnectMs ?? ''}`;
  let frame = byeFrames.get(key);
  if (!frame) {
    const payload = reconnectMs === undefined ? { reason } : { reason, reconnectMs };
    frame = new SharedBytes(() => controlFrame(CONTROL_EVENTS.bye, payload));
    if (byeFrames.size >= 64) byeFrames.clear();
    byeFrames.set(key, frame);
  }
  return frame;
}

export function pingFrame(now: number, heads?: PingPayload['heads']): Uint8Array {
  const payload: PingPayload = heads ? { t: now, heads } : { t: now };
  return controlFrame(CONTROL_EVENTS.ping, payload);
}
