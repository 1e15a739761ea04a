export type { ByeReason, EventsOf, LiveEvent, ResyncReason, TandemErrorCode } from '../protocol';
export { isTandemError, TandemError } from '../protocol';
export type { BackoffOptions } from './backoff';
export { BACKOFF_DEFAULTS } from './backoff';
export { createLiveClient } from './client';
export type { PositionStorage, Signal, Timers } from './environment';
export type {
  LiveQuerySchedulerOptions,
  LiveQueryState,
  LiveQueryStatus,
  LiveQueryTiming,
} from './live-query';
export { LIVE_QUERY_DEFAULTS, LiveQueryScheduler } from './live-query';
export type { LiveClientOptions } from './options';
export type { PollOptions } from './poll-schedule';
export { POLL_DEFAULTS } from './poll-schedule';
export type { LivePresence, PresenceChange, PresenceListener } from './presence';
export type { TokenContext, TokenReason, TokenSource } from './token';
export type {
  EventSourceConstructor,
  EventSourceLike,
  EventSourceTransportOptions,
} from './transports/eventsource';
export { eventSourceTransport } from './transports/eventsource';
export type { FetchLike, FetchTransportOptions } from './transports/fetch';
export { fetchTransport } from './transports/fetch';
export type { StreamConnection, StreamHandlers, StreamRequest, Transport } from './transports/transport';
export type {
  ConnectionStatus,
  EventHandler,
  EventMap,
  EventMeta,
  LiveClient,
  LiveState,
  ResyncHandler,
  ShareState,
} from './types';
export type { WatchdogOptions } from './watchdog';
export { WATCHDOG_DEFAULTS } from './watchdog';
