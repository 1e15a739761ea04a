import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memoryBroker } from '../../src/broker';
import { redisBroker } from '../../src/redis';
import { brokerContract } from '../../src/testing';
import { type RedisServer, rawCommand, startRedis } from '../helpers/redis-server';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const test = { describe, it, afterEach, expect };

brokerContract(test, { name: 'memoryBroker', open: async (settings) => memoryBroker(settings) });

brokerContract(test, {
  name: 'redisBroker',
  async open(settings) {
    const broker = redisBroker({ url: redis.url, ...settings });
    await broker.ready();
    return broker;
  },
  // Everything goes, the life marker too, as when Redis restarts without persistence.
  async loseLog() {
    expect(await rawCommand(redis.port, 'FLUSHALL')).toBe('+OK');
  },
});
