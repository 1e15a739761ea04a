export type { RedisBroker, RedisBrokerOptions, RedisBrokerStats, RedisClientLike } from './broker';
export { redisBroker } from './broker';
export { REDIS_DEFAULTS } from './settings';
