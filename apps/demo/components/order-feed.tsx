'use client';

import { memo, useLayoutEffect } from 'react';
import type { FeedEntry, FeedStore } from '@/lib/feed-store';
import { formatMoney } from '@/lib/orders';

function latencyClass(ms: number | null): string {
  if (ms === null) return 'latency';
  if (ms <= 100) return 'latency latency-good';
  if (ms <= 1000) return 'latency latency-ok';
  return 'latency latency-slow';
}

function formatLatency(ms: number | null, source: FeedEntry['source']): string {
  if (source === 'server') return '—';
  if (ms === null) return '…';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

const timeFormat = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

const FeedRow = memo(function FeedRow({ entry, store }: { entry: FeedEntry; store: FeedStore }) {
  // Publish → render: measured when the row is committed to the DOM, before it is painted.
  useLayoutEffect(() => {
    if (entry.latencyMs === null && entry.source !== 'server') {
      store.markRendered(entry.key, performance.timeOrigin + performance.now());
    }
  }, [entry, store]);
  const { order } = entry;
  return (
    <li
      className="order"
      data-testid="order"
      data-offset={entry.offset}
      data-epoch={entry.epoch}
      data-channel={entry.channel}
      data-order-id={order.id}
      data-ts={entry.ts}
    >
      <span className="order-offset">#{entry.offset}</span>
      <span className="order-main">
        <span className="order-customer">{order.customer}</span>
        <span className="order-item">{order.item}</span>
      </span>
      <span className="order-amount">{formatMoney(order.amount)}</span>
      <span className="order-meta">
        <span className={latencyClass(entry.latencyMs)} title="publish → on screen">
          {formatLatency(entry.latencyMs, entry.source)}
        </span>
        <span className={`via via-${entry.source}`} title="delivered first by">
          {entry.source}
        </span>
        <time className="order-time" dateTime={new Date(entry.ts).toISOString()}>
          {timeFormat.format(entry.ts)}
        </time>
      </span>
    </li>
  );
});

export function OrderFeed({ entries, store }: { entries: readonly FeedEntry[]; store: FeedStore }) {
  if (entries.length === 0) {
    return (
      <div className="feed-empty">
        <p>No orders yet.</p>
        <p className="muted">Publish one, or switch the generator on.</p>
      </div>
    );
  }
  return (
    <ol className="feed" aria-label="Orders, newest first">
      {entries.map((entry) => (
        <FeedRow key={entry.key} entry={entry} store={store} />
      ))}
    </ol>
  );
}
