import { type Position, TimerSlot, type Timers } from '../protocol';

/**
 * The channels where the client is behind the heads a heartbeat announced: same epoch, lower
 * offset. Another epoch says nothing by itself (the stream tells a new log with its events or a
 * resync); a channel without a position yet has nothing to compare. Pure.
 */
export function headsEvidence(
  heads: Readonly<Record<string, Position>> | null,
  positions: Readonly<Record<string, Position>>,
): Map<string, Position> {
  const behind = new Map<string, Position>();
  if (!heads) return behind;
  for (const [channel, head] of Object.entries(heads)) {
    const position = positions[channel];
    if (position && position.epoch === head.epoch && position.offset < head.offset) {
      behind.set(channel, head);
    }
  }
  return behind;
}

/**
 * Polls on evidence: a heartbeat announced a head the client has not reached. The event may be
 * on its way (sent just after the heartbeat was built), so the watch waits `graceMs`; if the
 * client is still behind any announced head then, it polls once, at once. An open stream that
 * keeps up thus costs no poll at all.
 */
export class HeadsWatch {
  readonly #timer: TimerSlot;
  readonly #targets = new Map<string, Position>();

  readonly #graceMs: number;
  readonly #positions: () => Record<string, Position>;
  readonly #poll: () => void;

  constructor(timers: Timers, graceMs: number, positions: () => Record<string, Position>, poll: () => void) {
    this.#graceMs = graceMs;
    this.#positions = positions;
    this.#poll = poll;
    this.#timer = new TimerSlot(timers);
  }

  /** A heartbeat's heads. */
  heard(heads: Readonly<Record<string, Position>> | null): void {
    for (const [channel, head] of headsEvidence(heads, this.#positions())) {
      const known = this.#targets.get(channel);
      if (!known || known.epoch !== head.epoch || known.offset < head.offset)
        this.#targets.set(channel, head);
    }
    if (this.#targets.size > 0) this.#timer.setIfIdle(this.#graceMs, () => this.#check());
  }

  /** Forgets what was heard (the stream dropped: the poller takes over). */
  stop(): void {
    this.#timer.clear();
    this.#targets.clear();
  }

  #check(): void {
    const missing = headsEvidence(Object.fromEntries(this.#targets), this.#positions()).size > 0;
    this.#targets.clear();
    if (missing) this.#poll();
  }
}
