export type {
  AppendOptions,
  Broker,
  ChannelInfo,
  MemoryBroker,
  MemoryBrokerOptions,
  MemoryBrokerStats,
  PresenceEntry,
  PresenceRecord,
  PresenceStore,
  ReadResult,
} from '../broker';
export { BROKER_DEFAULTS, emptyContinues, memoryBroker } from '../broker';
export type { ByeReason, EventMap, EventsOf, LiveEvent, ResyncReason, TandemErrorCode } from '../protocol';
export { isTandemError, TandemError } from '../protocol';
export type { Authorize, Grant, HeaderReader, HubRequest } from './auth';
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
export type { NodeHandler, NodeRequestLike, NodeResponseLike } from './node-handler';
export type { CorsOptions, HubOptions, MetricsEndpointOptions } from './options';
export { HUB_DEFAULTS } from './options';
export type { PresenceOptions } from './presence-options';
export { PRESENCE_DEFAULTS } from './presence-options';
export type { PublishAuthorize, PublishEndpointOptions } from './publish-options';
export { PUBLISH_DEFAULTS } from './publish-options';
