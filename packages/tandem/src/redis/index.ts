export type { RedisBroker, RedisBrokerOptions, RedisClientLike } from './broker';
export { redisBroker } from './broker';
