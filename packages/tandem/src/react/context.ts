'use client';

import { createContext, createElement, type ReactNode, useContext } from 'react';
import type { EventMap, LiveClient } from '../client/types';

const LiveContext = createContext<LiveClient | null>(null);

export interface LiveProviderProps<E extends EventMap = EventMap> {
  /** The client the hooks below use; create it once (e.g. in a `useState` initialiser or effect). */
  client: LiveClient<E>;
  children?: ReactNode;
}

/** Makes a `LiveClient` available to the hooks of its subtree. It does not start or close it. */
export function LiveProvider<E extends EventMap = EventMap>({ client, children }: LiveProviderProps<E>) {
  return createElement(LiveContext.Provider, { value: client as unknown as LiveClient }, children);
}

/** The `LiveClient` of the nearest `LiveProvider`; throws outside of one. */
export function useLiveClient<E extends EventMap = EventMap>(): LiveClient<E> {
  const client = useContext(LiveContext);
  if (!client) throw new Error('useLiveClient: no <LiveProvider client={…}> above this component');
  return client as unknown as LiveClient<E>;
}
