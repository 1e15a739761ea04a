'use client';

import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import {
  type EventMap,
  LiveQueryScheduler,
  type LiveQueryState,
  type LiveQueryTiming,
  type Timers,
} from '../client';
import { useLiveClient } from './context';
import { useLatest } from './use-latest';

export interface UseLiveQueryOptions<E extends EventMap = EventMap> extends LiveQueryTiming {
  /** Event types that mean "the data changed": each burst of them causes one refetch. */
  refetchOn?: readonly (keyof E & string)[];
  /** When false, nothing is fetched and no timer runs. Default true. */
  enabled?: boolean;

  // Environment seams (tests), read once when the query mounts, as `LiveQueryScheduler` takes them.
  /** The timers of the query's schedule (coalescing, interval). @default globalThis.setTimeout / clearTimeout */
  timers?: Timers;
  /** The clock the interval is counted on and `updatedAt` read from. @default Date.now */
  now?: () => number;
}

export interface LiveQueryResult<T> extends LiveQueryState<T> {
  /** Refetches as soon as no other fetch of this query runs. */
  refetch: () => void;
}

/**
 * Loads data and keeps it fresh: once on mount, once per burst of `refetchOn` events, on
 * `resync`, and every `connectedIntervalMs` (10 s) while the stream is open or
 * `disconnectedIntervalMs` (3 s) while it is not. Fetches never overlap, and the `signal`
 * given to `fetcher` aborts on unmount, after which no state changes.
 */
export function useLiveQuery<T, E extends EventMap = EventMap>(
  fetcher: (signal: AbortSignal) => Promise<T>,
  options: UseLiveQueryOptions<E> = {},
): LiveQueryResult<T> {
  const {
    refetchOn = [],
    enabled = true,
    connectedIntervalMs,
    disconnectedIntervalMs,
    coalesceMs,
    timers,
    now,
  } = options;
  const client = useLiveClient();
  const latestFetcher = useLatest(fetcher);
  const [scheduler] = useState(
    () =>
      new LiveQueryScheduler<T>({
        fetcher: (signal) => latestFetcher.current(signal),
        connectedIntervalMs,
        disconnectedIntervalMs,
        coalesceMs,
        timers,
        now,
      }),
  );

  useEffect(() => {
    scheduler.setTiming({ connectedIntervalMs, disconnectedIntervalMs, coalesceMs });
  }, [scheduler, connectedIntervalMs, disconnectedIntervalMs, coalesceMs]);

  // Connection state and resync drive the schedule for as long as the query is enabled.
  useEffect(() => {
    if (!enabled) return;
    const isOpen = () => client.getState().status === 'open';
    scheduler.setConnected(isOpen());
    const offState = client.subscribeState(() => scheduler.setConnected(isOpen()));
    const offResync = client.onResync(() => scheduler.invalidate());
    scheduler.start();
    return () => {
      offState();
      offResync();
      scheduler.stop();
    };
  }, [client, scheduler, enabled]);

  // The array is usually a new literal on each render: subscribe by its contents.
  const typesKey = refetchOn.join('\n');
  useEffect(() => {
    if (!enabled || typesKey === '') return;
    const offs = typesKey.split('\n').map((type) => client.on(type, () => scheduler.invalidate()));
    return () => {
      for (const off of offs) off();
    };
  }, [client, scheduler, enabled, typesKey]);

  const state = useSyncExternalStore(scheduler.subscribe, scheduler.getState, scheduler.getState);
  const refetch = useMemo(() => () => scheduler.refetch(), [scheduler]);
  return useMemo(() => ({ ...state, refetch }), [state, refetch]);
}
