'use client';

import { useCallback, useSyncExternalStore } from 'react';
import type { LivePresence } from '../client';
import { useLiveClient } from './context';

/**
 * Who is on a channel of the provider's client (`users`, `connections`, `members` and whether
 * the view is the server's current one, `synced`); re-renders when it changes. The hub needs
 * `presence` on for the channel. See docs/presence.md.
 */
export function usePresence(channel: string): LivePresence {
  const client = useLiveClient();
  const subscribe = useCallback(
    (onChange: () => void) => client.onPresence(channel, () => onChange()),
    [client, channel],
  );
  const getSnapshot = useCallback(() => client.presence(channel), [client, channel]);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
