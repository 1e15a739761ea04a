export type { AppendOptions, Broker, ChannelInfo, ReadResult } from './contract';
export { emptyContinues } from './contract';
export { BROKER_DEFAULTS } from './defaults';
export { jsonOf, rememberJson } from './json';
export type { MemoryBroker, MemoryBrokerOptions, MemoryBrokerStats } from './memory-broker';
export { memoryBroker } from './memory-broker';
