import type { EventMeta } from 'tandem/client';
import { isEmptyEpoch } from 'tandem/protocol';
import type { Order } from './orders';

/** One order as the page shows it. */
export interface FeedEntry {
  /** Unique per page session, even for a (never expected) duplicate delivery. */
  key: number;
  order: Order;
  channel: string;
  epoch: string;
  offset: number;
  /** Publish time on the server. */
  ts: number;
  /** Which path brought it: rendered by the server, or delivered by the stream or a poll. */
  source: EventMeta['source'] | 'server';
  /** Publish → on screen, set when a delivered row is first committed to the DOM. */
  latencyMs: number | null;
}

/** Where the counters start: the channel's log (epoch) and the offset counted from. */
export interface Baseline {
  epoch: string;
  head: number;
}

/** What the server rendered the page with (see `Demo.snapshot`). */
export interface FeedSnapshot {
  epoch: string;
  /** Offset of the newest order loaded: the snapshot stands for every order up to it. */
  head: number;
  orders: readonly { order: Order; channel: string; epoch: string; offset: number; ts: number }[];
}

export interface FeedState {
  baseline: Baseline | null;
  /** Orders this page has: those the server rendered it with, then those delivered after. */
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

/**
 * The orders of one tenant panel, an external store for `useSyncExternalStore`: it starts with
 * the orders the server rendered (the same state on the server and in the browser, so the page
 * hydrates as rendered) and takes the orders the live client delivers after them. A reload
 * renders the page anew from the server.
 */
export class FeedStore {
  private state: FeedState;
  private readonly listeners = new Set<() => void>();
  private seen = new Set<string>();
  /** The snapshot's log and head: delivered orders up to it are already shown. */
  private covered: Baseline;
  /** Reloads asked for (one per resync): an answer to an older one is stale. */
  private reloads = 0;

  constructor(snapshot: FeedSnapshot) {
    this.covered = { epoch: snapshot.epoch, head: snapshot.head };
    const entries = serverEntries(snapshot, 1);
    for (const entry of entries) this.seen.add(`${entry.epoch}:${entry.offset}`);
    this.state = {
      baseline: { epoch: snapshot.epoch, head: 0 },
      received: snapshot.head,
      duplicates: 0,
      entries,
      resyncs: 0,
      nextKey: snapshot.orders.length + 1,
    };
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
    // The stream starts from the cursor read before the snapshot's orders were loaded: what was
    // published in between arrives again, and is already on the page. Applied once, by offset.
    if (meta.epoch === this.covered.epoch && meta.offset <= this.covered.head) return;
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
      if (entry.key !== key || entry.latencyMs !== null || entry.source === 'server') return entry;
      changed = true;
      return { ...entry, latencyMs: Math.max(0, at - entry.ts) };
    });
    if (changed) this.update({ ...this.state, entries });
  }

  /**
   * The server lost continuity: the orders shown may miss some. Counting restarts, and the
   * returned ticket is what `reload` takes with the orders loaded after this call.
   */
  resync(): number {
    this.update({ ...this.state, baseline: null, received: 0, resyncs: this.state.resyncs + 1 });
    return ++this.reloads;
  }

  /**
   * The channel's orders, loaded after a resync: they replace the list, as a new page would be
   * rendered, keeping those delivered since that the snapshot does not hold yet. An answer to
   * an older resync than the last is dropped.
   */
  reload(snapshot: FeedSnapshot, ticket: number): void {
    if (ticket !== this.reloads) return;
    this.covered = { epoch: snapshot.epoch, head: snapshot.head };
    const later = this.state.entries.filter(
      (entry) => entry.source !== 'server' && entry.epoch === snapshot.epoch && entry.offset > snapshot.head,
    );
    const loaded = serverEntries(snapshot, this.state.nextKey);
    const entries = [...later, ...loaded].slice(0, MAX_ENTRIES);
    this.seen = new Set(entries.map((entry) => `${entry.epoch}:${entry.offset}`));
    this.update({
      ...this.state,
      baseline: { epoch: snapshot.epoch, head: 0 },
      received: snapshot.head + later.length,
      entries,
      nextKey: this.state.nextKey + loaded.length,
    });
  }

  private update(next: FeedState): void {
    this.state = next;
    for (const listener of [...this.listeners]) listener();
  }
}

/** A snapshot's orders as entries, newest first, keyed from `firstKey`. */
function serverEntries(snapshot: FeedSnapshot, firstKey: number): FeedEntry[] {
  return snapshot.orders
    .map((o, i): FeedEntry => ({ key: firstKey + i, ...o, source: 'server', latencyMs: null }))
    .reverse()
    .slice(0, MAX_ENTRIES);
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
