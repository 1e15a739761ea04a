'use client';

import { createContext, createElement, type ReactNode, useContext, useEffect } from 'react';
import type { EventMap, LiveClient } from '../client';

const LiveContext = createContext<LiveClient | null>(null);

export interface LiveProviderProps<E extends EventMap = EventMap> {
  /** The client the hooks below use. Create it once (module scope, or a `useState` initialiser). */
  client: LiveClient<E>;
  children?: ReactNode;
}

/**
 * Makes a `LiveClient` available to the hooks of its subtree and runs it while mounted: the
 * client starts when the first provider of it mounts and stops when the last one unmounts
 * (`client.mount()`, reference-counted, so StrictMode's double effects keep one stream).
 */
export function LiveProvider<E extends EventMap = EventMap>({ client, children }: LiveProviderProps<E>) {
  useEffect(() => client.mount(), [client]);
  return createElement(LiveContext.Provider, { value: client as unknown as LiveClient }, children);
}

/** The `LiveClient` of the nearest `LiveProvider`; throws outside of one. */
export function useLiveClient<E extends EventMap = EventMap>(): LiveClient<E> {
  const client = useContext(LiveContext);
  if (!client) throw new Error('useLiveClient: no <LiveProvider client={…}> above this component');
  return client as unknown as LiveClient<E>;
}
