import type { EventMeta } from 'tandem/client';
import { isEmptyEpoch } from 'tandem/protocol';
import type { Order } from './orders';

/** One received order as the page shows it. */
export interface FeedEntry {
  /** Unique per page session, even for a (never expected) duplicate delivery. */
  key: number;
  order: Order;
  channel: string;
  epoch: string;
  offset: number;
  /** Publish time on the server. */
  ts: number;
  source: EventMeta['source'];
  /** Publish → on screen, set when the row is first committed to the DOM. */
  latencyMs: number | null;
}

/** Where the counters start: the channel's position when this page session began. */
export interface Baseline {
  epoch: string;
  head: number;
}

export interface FeedState {
  baseline: Baseline | null;
  /** Orders received after the baseline (what "received" shows). */
  received: number;
  /** Deliveries of an (epoch, offset) seen before; Tandem promises 0. */
  duplicates: number;
  /** Newest first, at most `MAX_ENTRIES`. */
  entries: FeedEntry[];
  /** Continuity lost (reported by the server): how many times, and the last reason. */
  resyncs: number;
  nextKey: number;
}

export const MAX_ENTRIES = 300;

const EMPTY: FeedState = { baseline: null, received: 0, duplicates: 0, entries: [], resyncs: 0, nextKey: 1 };

/**
 * The received orders of one tenant panel: an external store for `useSyncExternalStore`,
 * persisted in sessionStorage so that a reload keeps the list while the client resumes
 * from its persisted cursor.
 */
export class FeedStore {
  private state: FeedState;
  private readonly listeners = new Set<() => void>();
  private readonly seen = new Set<string>();
  private saveScheduled = false;

  constructor(private readonly storageKey: string) {
    this.state = load(storageKey) ?? EMPTY;
    for (const entry of this.state.entries) this.seen.add(`${entry.epoch}:${entry.offset}`);
  }

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  getState = (): FeedState => this.state;

  setBaseline(baseline: Baseline): void {
    this.update({ ...this.state, baseline });
  }

  add(order: Order, meta: EventMeta): void {
    const id = `${meta.epoch}:${meta.offset}`;
    const duplicate = this.seen.has(id);
    this.seen.add(id);
    let { baseline } = this.state;
    // The channel had no log at the baseline: its first event starts the log it is counted in.
    if (baseline && isEmptyEpoch(baseline.epoch) && meta.offset === 1)
      baseline = { epoch: meta.epoch, head: 0 };
    const counts =
      !duplicate && baseline !== null && meta.epoch === baseline.epoch && meta.offset > baseline.head;
    const entry: FeedEntry = {
      key: this.state.nextKey,
      order,
      channel: meta.channel,
      epoch: meta.epoch,
      offset: meta.offset,
      ts: meta.ts,
      source: meta.source,
      latencyMs: null,
    };
    this.update({
      ...this.state,
      baseline,
      nextKey: this.state.nextKey + 1,
      received: this.state.received + (counts ? 1 : 0),
      duplicates: this.state.duplicates + (duplicate ? 1 : 0),
      entries: [entry, ...this.state.entries].slice(0, MAX_ENTRIES),
    });
  }

  markRendered(key: number, at: number): void {
    let changed = false;
    const entries = this.state.entries.map((entry) => {
      if (entry.key !== key || entry.latencyMs !== null) return entry;
      changed = true;
      return { ...entry, latencyMs: Math.max(0, at - entry.ts) };
    });
    if (changed) this.update({ ...this.state, entries });
  }

  /** The server lost continuity: counting restarts from the next stats snapshot. */
  resync(): void {
    this.update({ ...this.state, baseline: null, received: 0, resyncs: this.state.resyncs + 1 });
  }

  private update(next: FeedState): void {
    this.state = next;
    this.scheduleSave();
    for (const listener of [...this.listeners]) listener();
  }

  private scheduleSave(): void {
    if (this.saveScheduled) return;
    this.saveScheduled = true;
    // Once per tick: a burst of events costs one write. A microtask still runs before unload.
    queueMicrotask(() => {
      this.saveScheduled = false;
      try {
        sessionStorage.setItem(this.storageKey, JSON.stringify(this.state));
      } catch {
        // Storage full or unavailable: the page still works, it just will not survive a reload.
      }
    });
  }
}

function load(key: string): FeedState | null {
  try {
    const raw = typeof sessionStorage === 'undefined' ? null : sessionStorage.getItem(key);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as FeedState;
    return Array.isArray(parsed.entries) ? { ...EMPTY, ...parsed } : null;
  } catch {
    return null;
  }
}

/** Median and 99th percentile of the measured latencies, or null without any. */
export function latencySummary(
  entries: readonly FeedEntry[],
): { p50: number; p99: number; n: number } | null {
  const values = entries
    .map((entry) => entry.latencyMs)
    .filter((value): value is number => value !== null)
    .sort((a, b) => a - b);
  if (values.length === 0) return null;
  const at = (q: number) => values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), n: values.length };
}
