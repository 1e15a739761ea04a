'use client';

import type { EventMap, EventMeta, LiveClient, LiveState } from '../client';
import { useLiveClient } from './context';
import { useLiveEvent } from './use-live-event';
import {
  type InvalidationMap,
  type QueryInvalidator,
  type UseLiveInvalidationOptions,
  useLiveInvalidation,
} from './use-live-invalidation';
import { type LiveQueryResult, type UseLiveQueryOptions, useLiveQuery } from './use-live-query';
import { useLiveStatus } from './use-live-status';

/** The hooks, typed by one event map: event names are checked and data needs no casts. */
export interface LiveHooks<E extends EventMap> {
  useLiveClient(): LiveClient<E>;
  useLiveEvent<K extends keyof E & string>(type: K, handler: (data: E[K], meta: EventMeta) => void): void;
  useLiveQuery<T>(
    fetcher: (signal: AbortSignal) => Promise<T>,
    options?: UseLiveQueryOptions<E>,
  ): LiveQueryResult<T>;
  useLiveStatus(): LiveState;
  useLiveInvalidation(
    queryClient: QueryInvalidator,
    map: InvalidationMap<E>,
    options?: UseLiveInvalidationOptions,
  ): void;
}

/**
 * The hooks bound to the app's event map, once, e.g. next to the client:
 *
 * ```ts
 * export const { useLiveEvent, useLiveQuery } = createLiveHooks<EventsOf<typeof hub>>();
 * ```
 *
 * They are the same functions as the untyped exports; only their types differ.
 */
export function createLiveHooks<E extends EventMap>(): LiveHooks<E> {
  return {
    useLiveClient: () => useLiveClient<E>(),
    useLiveEvent: (type, handler) => useLiveEvent<E, typeof type>(type, handler),
    useLiveQuery: (fetcher, options) => useLiveQuery(fetcher, options),
    useLiveStatus,
    useLiveInvalidation: (queryClient, map, options) => useLiveInvalidation<E>(queryClient, map, options),
  };
}
