'use client';

export type { LiveProviderProps } from './context';
export { LiveProvider, useLiveClient } from './context';
export type { LiveHooks } from './hooks';
export { createLiveHooks } from './hooks';
export { useLiveEvent } from './use-live-event';
export type {
  InvalidationKey,
  InvalidationMap,
  QueryInvalidator,
  UntypedEvents,
  UseLiveInvalidationOptions,
} from './use-live-invalidation';
export { useLiveInvalidation } from './use-live-invalidation';
export type { LiveQueryResult, UseLiveQueryOptions } from './use-live-query';
export { useLiveQuery } from './use-live-query';
export { useLiveStatus } from './use-live-status';
export { usePresence } from './use-presence';
