import { afterAll, beforeAll } from 'vitest';
import { memoryBroker } from '../../src/broker';
import { redisBroker } from '../../src/redis';
import { type RedisServer, startRedis } from '../helpers/redis-server';
import { brokerContract } from './broker-contract';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

brokerContract('memoryBroker', async (options) => memoryBroker(options));

brokerContract('redisBroker', async (options) => {
  const broker = redisBroker({ url: redis.url, ...options });
  await broker.ready();
  return broker;
});
