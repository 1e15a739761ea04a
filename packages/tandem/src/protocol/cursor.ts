/**
 * A cursor is the positions of all channels of one connection in one compact string, carried
 * by the SSE `id:` field so that a native EventSource resumes by itself via `Last-Event-ID`.
 *
 * Format: `t1~<entry>~<entry>…`, each entry `<channel hash>.<epoch>.<offset>` where the hash
 * is FNV-1a (32 bit) of the channel name and the offset are base 36. Only URL-safe unreserved
 * characters are used, so the cursor travels unchanged in a header or a query parameter.
 */

/** The last event a client has seen on a channel: offset 0 means none yet in that epoch. */
export interface Position {
  epoch: string;
  offset: number;
}

export interface DecodedCursor {
  /** Positions found for the requested channels. */
  positions: Map<string, Position>;
  /** Requested channels the cursor says nothing trustworthy about: the server answers `resync`. */
  unknown: string[];
  /** Whether a cursor was given at all (header or parameter, non-empty). */
  present: boolean;
  /** Whether the cursor was given but could not be read (malformed, oversized, foreign). */
  malformed: boolean;
}

const VERSION = 't1';
/** Longest cursor accepted; a longer one is treated as malformed. */
export const MAX_CURSOR_LENGTH = 8192;
const EPOCH = /^[0-9a-z]{1,16}$/;
const HASH = /^[0-9a-z]{1,7}$/;
const OFFSET = /^[0-9a-z]{1,11}$/;

const hashCache = new Map<string, string>();

/** FNV-1a 32-bit hash of a channel name, base 36. */
export function channelHash(channel: string): string {
  let cached = hashCache.get(channel);
  if (cached !== undefined) return cached;
  let h = 0x811c9dc5;
  for (let i = 0; i < channel.length; i++) {
    h ^= channel.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  cached = (h >>> 0).toString(36);
  if (hashCache.size > 10_000) hashCache.clear();
  hashCache.set(channel, cached);
  return cached;
}

export function isValidEpoch(epoch: unknown): epoch is string {
  return typeof epoch === 'string' && EPOCH.test(epoch);
}

/** A new random epoch: 10 base-36 characters. */
export function newEpoch(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  // BigInt(…) calls, not literals: the module compiles for targets below ES2020 as well.
  const eight = BigInt(8);
  let n = BigInt(0);
  for (const b of bytes) n = (n << eight) | BigInt(b);
  return n.toString(36).padStart(10, '0').slice(-10);
}

/** What names a broker in its empty epochs. */
const SOURCE = /^[0-9a-z]{4}$/;

/** `newEpoch` is always this long; an empty epoch never is. */
const EMPTY_EPOCH_LENGTH = 13;

/**
 * The epoch of a channel that has no log: it names no log, only where (`source`, 4 base-36
 * characters naming the broker) and when (`time`, ms on that broker's clock) the channel was
 * seen empty, so that reading a channel allocates nothing. Offset 0 of it is followed by offset
 * 1 of whichever log the channel gets next; the broker tells whether a log is that one.
 */
export function emptyEpoch(source: string, time: number): string {
  if (!SOURCE.test(source))
    throw new RangeError(`emptyEpoch: source must be 4 base-36 characters, got ${JSON.stringify(source)}`);
  return (
    source +
    Math.max(0, Math.floor(time))
      .toString(36)
      .padStart(EMPTY_EPOCH_LENGTH - 4, '0')
  );
}

export function isEmptyEpoch(epoch: string): boolean {
  return epoch.length === EMPTY_EPOCH_LENGTH;
}

/** The source and time of an empty epoch. */
export function parseEmptyEpoch(epoch: string): { source: string; time: number } | null {
  if (!isEmptyEpoch(epoch)) return null;
  return { source: epoch.slice(0, 4), time: Number.parseInt(epoch.slice(4), 36) };
}

/** One channel's part of a cursor; stable for a given (channel, epoch, offset), so it can be cached. */
export function cursorEntry(channel: string, position: Position): string {
  if (!isValidEpoch(position.epoch)) throw new RangeError(`invalid epoch ${JSON.stringify(position.epoch)}`);
  if (!Number.isSafeInteger(position.offset) || position.offset < 0) {
    throw new RangeError(`invalid offset ${position.offset}`);
  }
  // join, not a template: one flat string rather than a tree of pieces, since every stream
  // keeps its entry for as long as it is idle (bench S1).
  return [channelHash(channel), position.epoch, position.offset.toString(36)].join('.');
}

/** Joins entries made by `cursorEntry` into a cursor. */
export function joinCursor(entries: readonly string[]): string {
  return entries.length === 0 ? VERSION : `${VERSION}~${entries.join('~')}`;
}

/** Encodes positions, in the order given, into a cursor. */
export function encodeCursor(
  positions: Iterable<readonly [string, Position]> | Record<string, Position>,
): string {
  const pairs = Symbol.iterator in positions ? positions : Object.entries(positions);
  const entries: string[] = [];
  for (const [channel, position] of pairs as Iterable<readonly [string, Position]>) {
    entries.push(cursorEntry(channel, position));
  }
  return joinCursor(entries);
}

/** A cursor that says nothing trustworthy about any requested channel. */
function allUnknown(channels: readonly string[], present: boolean, malformed: boolean): DecodedCursor {
  return { positions: new Map(), unknown: [...channels], present, malformed };
}

/**
 * Reads a cursor for the requested channels. Never throws: anything it cannot trust — wrong
 * type, oversized, another server's id, a broken entry — marks the channels unknown.
 */
export function decodeCursor(
  input: unknown,
  channels: readonly string[],
  maxLength: number = MAX_CURSOR_LENGTH,
): DecodedCursor {
  const present = typeof input === 'string' && input !== '';
  if (!present) return allUnknown(channels, false, input !== undefined && input !== null && input !== '');
  const text = input as string;
  if (text.length > maxLength) return allUnknown(channels, true, true);
  const parts = text.split('~');
  if (parts[0] !== VERSION) return allUnknown(channels, true, true);

  const byHash = new Map<string, Position>();
  for (let i = 1; i < parts.length; i++) {
    const entry = parts[i]!;
    const a = entry.indexOf('.');
    const b = a === -1 ? -1 : entry.indexOf('.', a + 1);
    if (b === -1 || entry.indexOf('.', b + 1) !== -1) return allUnknown(channels, true, true);
    const hash = entry.slice(0, a);
    const epoch = entry.slice(a + 1, b);
    const offsetText = entry.slice(b + 1);
    if (!HASH.test(hash) || !EPOCH.test(epoch) || !OFFSET.test(offsetText)) {
      return allUnknown(channels, true, true);
    }
    const offset = Number.parseInt(offsetText, 36);
    if (!Number.isSafeInteger(offset) || byHash.has(hash)) return allUnknown(channels, true, true);
    byHash.set(hash, { epoch, offset });
  }

  const positions = new Map<string, Position>();
  const unknown: string[] = [];
  // Two requested channels with one hash are ambiguous: neither is trusted. One channel (a
  // usual request) cannot collide.
  const hashCount = channels.length > 1 ? new Map<string, number>() : null;
  if (hashCount) {
    for (const channel of channels) {
      const h = channelHash(channel);
      hashCount.set(h, (hashCount.get(h) ?? 0) + 1);
    }
  }
  for (const channel of channels) {
    const h = channelHash(channel);
    const position = byHash.get(h);
    if (position && (!hashCount || hashCount.get(h) === 1)) positions.set(channel, position);
    else unknown.push(channel);
  }
  return { positions, unknown, present, malformed: false };
}
