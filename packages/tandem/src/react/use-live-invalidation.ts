'use client';

import { useEffect } from 'react';
import type { EventMap, EventMeta } from '../client';
import { useLiveClient } from './context';
import { useLatest } from './use-latest';

export type InvalidationKey = readonly unknown[];

/** What `useLiveInvalidation` needs of a TanStack `QueryClient` (so Tandem does not depend on it). */
export interface QueryInvalidator {
  invalidateQueries(filters: { queryKey: InvalidationKey }): unknown;
}

/** The event map of an untyped `useLiveInvalidation`: any event type, any data. */
// biome-ignore lint/suspicious/noExplicitAny: untyped maps let the app name each event's data type itself.
export type UntypedEvents = Record<string, any>;

/**
 * Event type → the query key to invalidate, or a function of the event computing it
 * (return null to skip). Typed by the app's event map `E` (see `createLiveHooks`).
 */
export type InvalidationMap<E extends EventMap = UntypedEvents> = {
  [K in keyof E & string]?:
    | InvalidationKey
    | ((data: E[K], meta: EventMeta) => InvalidationKey | null | undefined);
};

export interface UseLiveInvalidationOptions {
  /**
   * Keys to invalidate on `resync`. Default: every fixed key of the map. Keys computed from
   * event data cannot be known then: list them here.
   */
  resyncKeys?: readonly InvalidationKey[];
}

/**
 * Invalidates TanStack Query keys when events arrive. Invalidations of one tick are merged
 * and deduplicated, so a burst of events refetches each key once.
 */
export function useLiveInvalidation<E extends EventMap = UntypedEvents>(
  queryClient: QueryInvalidator,
  map: InvalidationMap<E>,
  options: UseLiveInvalidationOptions = {},
): void {
  const client = useLiveClient();
  const latestMap = useLatest(map);
  const latestOptions = useLatest(options);
  const typesKey = Object.keys(map).sort().join('\n');

  useEffect(() => {
    let active = true;
    let pending: Map<string, InvalidationKey> | null = null;

    const enqueue = (key: InvalidationKey) => {
      if (!pending) {
        pending = new Map();
        queueMicrotask(() => {
          const keys = pending;
          pending = null;
          if (!active || !keys) return;
          for (const queryKey of keys.values()) void queryClient.invalidateQueries({ queryKey });
        });
      }
      pending.set(JSON.stringify(key), key);
    };

    const types = typesKey === '' ? [] : typesKey.split('\n');
    const offs = types.map((type) =>
      client.on(type, (data, meta) => {
        const entry = (latestMap.current as InvalidationMap)[type];
        const key = typeof entry === 'function' ? entry(data, meta) : entry;
        if (key) enqueue(key);
      }),
    );
    offs.push(
      client.onResync(() => {
        const fixed = Object.values(latestMap.current as InvalidationMap).filter(
          (entry): entry is InvalidationKey => Array.isArray(entry),
        );
        for (const key of latestOptions.current.resyncKeys ?? fixed) enqueue(key);
      }),
    );
    return () => {
      active = false;
      for (const off of offs) off();
    };
  }, [client, queryClient, typesKey, latestMap, latestOptions]);
}
