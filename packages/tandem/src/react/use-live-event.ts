'use client';

import { useEffect } from 'react';
import type { EventMap, EventMeta } from '../client';
import { useLiveClient } from './context';
import { useLatest } from './use-latest';

/**
 * Calls `handler` for each event of `type`. The handler may change on every render without
 * resubscribing: the latest one is called. Typed by the event map `E` (see `createLiveHooks`).
 */
export function useLiveEvent<E extends EventMap = EventMap, K extends keyof E & string = keyof E & string>(
  type: K,
  handler: (data: E[K], meta: EventMeta) => void,
): void {
  const client = useLiveClient<E>();
  const latest = useLatest(handler);
  useEffect(() => client.on(type, (data, meta) => latest.current(data, meta)), [client, type, latest]);
}
