import type { Position } from '../../protocol';

/**
 * The earliest of the members' positions for a channel the group's stream did not follow, where
 * the stream opens it: every member then gets what it misses (the others drop what they already
 * have). Only positions in the epoch most members are in count; the others are left to their
 * members, which poll for themselves when the stream's events do not fit.
 */
export function earliestPosition(positions: Iterable<Position | undefined>): Position | undefined {
  const candidates = [...positions].filter((position) => position !== undefined);
  const epochs = new Map<string, number>();
  for (const p of candidates) epochs.set(p.epoch, (epochs.get(p.epoch) ?? 0) + 1);
  const epoch = [...epochs].sort((a, b) => b[1] - a[1])[0]?.[0];
  let earliest: Position | undefined;
  for (const p of candidates) {
    if (p.epoch === epoch && (!earliest || p.offset < earliest.offset)) earliest = p;
  }
  return earliest;
}
