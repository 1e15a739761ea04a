import { decodeCursor, encodeCursor, isValidEpoch, type Position } from '../protocol';
import type { PositionStorage } from './environment';

/** The storage key of one client: its base URL and channel set. */
export function positionsKey(url: string, channels: readonly string[]): string {
  return `tandem:positions:${url}|${[...channels].sort().join(',')}`;
}

/** Reads stored positions; anything unreadable counts as none (the server then starts live). */
export function loadPositions(
  storage: PositionStorage | null,
  key: string,
  channels: readonly string[],
): Record<string, Position> {
  if (!storage) return {};
  try {
    const text = storage.getItem(key);
    if (!text) return {};
    const stored = JSON.parse(text) as Record<string, Position>;
    const out: Record<string, Position> = {};
    for (const channel of channels) {
      const p = stored[channel];
      if (p && isValidEpoch(p.epoch) && Number.isSafeInteger(p.offset) && p.offset >= 0) {
        out[channel] = { epoch: p.epoch, offset: p.offset };
      }
    }
    return out;
  } catch {
    return {};
  }
}

export function savePositions(
  storage: PositionStorage | null,
  key: string,
  positions: Record<string, Position>,
): void {
  if (!storage) return;
  try {
    storage.setItem(key, JSON.stringify(positions));
  } catch {
    // Quota or privacy mode: resuming after a reload is a convenience, never a failure.
  }
}

/** Positions carried by a cursor (e.g. one rendered into the page with the HTML). */
export function positionsFromCursor(cursor: string, channels: readonly string[]): Record<string, Position> {
  return Object.fromEntries(decodeCursor(cursor, channels).positions);
}

/** The cursor for `positions` in channel order, or null when no channel has one. */
export function cursorOf(
  channels: readonly string[],
  positions: (channel: string) => Position | null | undefined,
): string | null {
  const pairs: Array<[string, Position]> = [];
  for (const channel of channels) {
    const position = positions(channel);
    if (position) pairs.push([channel, position]);
  }
  return pairs.length === 0 ? null : encodeCursor(pairs);
}

/** Writes positions to storage at most once per burst of changes (one microtask later). */
export class PositionSaver {
  #queued = false;

  readonly #storage: PositionStorage | null;
  readonly #key: string;
  readonly #read: () => Record<string, Position>;

  constructor(storage: PositionStorage | null, key: string, read: () => Record<string, Position>) {
    this.#storage = storage;
    this.#key = key;
    this.#read = read;
  }

  queue(): void {
    if (this.#queued || !this.#storage) return;
    this.#queued = true;
    queueMicrotask(() => this.flush());
  }

  flush(): void {
    this.#queued = false;
    savePositions(this.#storage, this.#key, this.#read());
  }
}
