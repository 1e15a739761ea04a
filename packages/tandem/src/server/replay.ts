import type { Connection } from './connection';
import type { EncodedEvent } from './encode';

/**
 * A stream's replay: what it is made of (pages of encoded events), how much of it is written at
 * once, and how its progress is judged. The connection writes it (`Connection.start`).
 */

/** Bytes of a replay written at once: a quarter of the buffer bound, between 1 and 64 KiB. */
export function replayChunkBytes(maxBufferedBytes: number): number {
  return Math.max(1024, Math.min(65_536, maxBufferedBytes >> 2));
}

/**
 * Room a frame takes beyond its data's JSON: `id:` (up to 64 cursor entries on a multi-channel
 * stream), `event:` (a type of at most 200 characters) and the envelope (channel, offset,
 * epoch, ts).
 */
export const FRAME_OVERHEAD_BYTES = 4096;

/**
 * The largest data JSON a stream with this buffer bound can always take without being cut:
 * a replay writes while at most half the bound is unsent, one chunk at a time, and a chunk
 * can end with a whole frame.
 */
export function largestEventBytes(maxBufferedBytes: number): number {
  return (maxBufferedBytes >> 1) - replayChunkBytes(maxBufferedBytes) - FRAME_OVERHEAD_BYTES;
}

/** One event of a replay, for one of the stream's channels. */
export interface ReplayItem {
  slot: number;
  encoded: EncodedEvent;
}

/**
 * A stream's replay: its first page, read with the resume plan, and the rest read page by page
 * as it is written (`next` resolves with null at the end), so that a long backlog is never
 * held whole nor encoded at once.
 */
export interface Replay {
  first: readonly ReplayItem[];
  next?: (connection: Connection) => Promise<readonly ReplayItem[] | null>;
}

/** How a replay moves, kept only while it is written: a live stream carries none. */
export interface ReplayProgress {
  /** A chunk was written since the last heartbeat. */
  written: boolean;
  /** Unsent bytes at the last heartbeat. */
  buffered: number;
  /** Heartbeats in a row that saw the client read nothing. */
  stalled: number;
}

/** Heartbeats without progress after which a replay is cut as a slow consumer. */
export const STALLED_BEATS = 2;
