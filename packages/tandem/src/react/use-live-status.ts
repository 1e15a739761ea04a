'use client';

import { useCallback, useSyncExternalStore } from 'react';
import type { LiveState } from '../client';
import { useLiveClient } from './context';

/** The connection state (status, polling, attempt, lastError, lastEventAt); re-renders on change. */
export function useLiveStatus(): LiveState {
  const client = useLiveClient();
  const subscribe = useCallback((onChange: () => void) => client.subscribeState(() => onChange()), [client]);
  const getSnapshot = useCallback(() => client.getState(), [client]);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
