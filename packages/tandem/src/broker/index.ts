export type { AppendOptions, Broker, ChannelInfo, ReadResult } from './contract';
export { emptyContinues } from './contract';
export { BROKER_DEFAULTS } from './defaults';
export { checkIdempotencyKey, IdempotencyKeys, MAX_IDEMPOTENCY_KEY_LENGTH } from './idempotency';
export { jsonBytes, jsonOf, rememberJson } from './json';
export type { MemoryBroker, MemoryBrokerOptions, MemoryBrokerStats } from './memory-broker';
export { memoryBroker } from './memory-broker';
export type { PresenceEntry, PresenceRecord, PresenceStore } from './presence';
export { memoryPresenceStore, presenceStoreOf } from './presence';
