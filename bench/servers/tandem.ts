/** Tandem: the hub behind node:http at `/live/…`, memory broker or (S7) the Redis broker. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Broker, createHub, memoryBroker } from '../../packages/tandem/src/server';
import { type BenchPayload, type BenchServer, EVENT_TYPE, listenOptions, type ServerOptions } from './types';

export async function start(options: ServerOptions): Promise<BenchServer> {
  let broker: Broker = memoryBroker();
  let closeBroker = async () => {};
  if (options.redisUrl) {
    const { redisBroker } = await import('../../packages/tandem/src/redis');
    broker = redisBroker({ url: options.redisUrl, prefix: `bench:${process.pid}:` });
    closeBroker = () => broker.close();
  }
  // No stream limit: S1 holds up to 20 000 streams to measure what each costs.
  const hub = createHub({
    broker,
    heartbeatMs: options.heartbeatMs,
    maxConnections: Number.POSITIVE_INFINITY,
  });
  // The settings docs/server.md recommends around hub.node (a client that never finishes its
  // headers is closed within 10 + 2 s).
  const server = http.createServer(
    { headersTimeout: 10_000, requestTimeout: 10_000, connectionsCheckingInterval: 2_000 },
    hub.node,
  );
  // Keep-alive long enough for a poller every 10 s to reuse its connection, as behind a proxy.
  server.keepAliveTimeout = 75_000;
  await new Promise<void>((resolve) => server.listen(listenOptions(), resolve));
  return {
    port: (server.address() as AddressInfo).port,
    publish: (channel: string, data: BenchPayload) => hub.publish(channel, EVENT_TYPE, data),
    connections: () => hub.connectionCount(),
    disconnectAll: () => hub.disconnect({}),
    async seed(channels, count, size) {
      const pad = 'x'.repeat(Math.max(0, size - 30));
      let published = 0;
      for (const channel of channels) {
        for (let i = 0; i < count; i++) {
          await hub.publish(channel, EVENT_TYPE, { bt: i, p: pad });
          published++;
        }
      }
      return published;
    },
    stats: () => ({ hub: hub.stats(), broker: (broker as { stats?: () => object }).stats?.() }),
    async close() {
      await hub.close();
      await closeBroker();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
