export type {
  AppendOptions,
  Broker,
  ChannelInfo,
  MemoryBroker,
  MemoryBrokerOptions,
  MemoryBrokerStats,
  ReadResult,
} from '../broker';
export { memoryBroker } from '../broker';
export type { ByeReason, EventsOf, LiveEvent, ResyncReason, TandemErrorCode } from '../protocol';
export { isTandemError, TandemError } from '../protocol';
export type { Authorize, Grant, HeaderReader, HubRequest } from './auth';
export { extractToken } from './auth';
export { globalHub } from './global';
export type { DisconnectFilter, Hub, HubStats, PublishOptions } from './hub';
export { createHub } from './hub';
export type {
  CloseReason,
  MetricsSink,
  MetricsSource,
  PollResult,
  PublishResult,
  RenderedMetrics,
} from './metrics';
export type { NodeHandler } from './node-adapter';
export type { CorsOptions, EventMap, HubOptions, MetricsEndpointOptions } from './options';
export { DEFAULTS } from './options';
export type { PublishAuthorize, PublishEndpointOptions } from './publish-options';
