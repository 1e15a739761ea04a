'use client';

import { useEffect } from 'react';
import type { EventMeta } from '../client/types';
import { useLiveClient } from './context';
import { useLatest } from './use-latest';

/**
 * Calls `handler` for each event of `type`. The handler may change on every render without
 * resubscribing: the latest one is called.
 */
export function useLiveEvent<T = unknown>(type: string, handler: (data: T, meta: EventMeta) => void): void {
  const client = useLiveClient();
  const latest = useLatest(handler);
  useEffect(() => client.on(type, (data, meta) => latest.current(data as T, meta)), [client, type, latest]);
}
