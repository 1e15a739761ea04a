import { afterEach, describe, it } from 'vitest';
import type { Recording } from '../client/harness';
import type { ChildHub } from '../helpers/child-hub';
import { expectNoLossThroughFailover, followOrders } from '../helpers/failover';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy';
import { type RedisServer, startRedis } from '../helpers/redis-server';
import { type RedisHub, startRedisChildHub, startRedisHub } from './cluster-helpers';

describe('live clients on a Redis-backed cluster', () => {
  let redis: RedisServer | undefined;
  let proxy: FaultProxy | undefined;
  let hubA: ChildHub | undefined;
  let hubB: RedisHub | undefined;
  const clients: Recording[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.client.close();
    await proxy?.close();
    await hubA?.kill9();
    await hubB?.close();
    await redis?.stop();
    proxy = hubA = hubB = redis = undefined;
  });

  it('follow a load balancer from a killed hub to a live one with every event once, in order', async () => {
    redis = await startRedis();
    hubA = await startRedisChildHub(redis.url);
    hubB = await startRedisHub(redis.url);
    // The "load balancer": every client reaches hub A through it until A dies.
    proxy = await startFaultProxy(Number(new URL(hubA.url).port));
    clients.push(...followOrders(proxy.url('/live'), 4));
    await expectNoLossThroughFailover(
      clients,
      (channel, type, data) => hubB!.hub.publish(channel, type, data),
      async () => {
        proxy!.retarget(Number(new URL(hubB!.url).port));
        await hubA!.kill9();
      },
    );
  });
});
