/** Tandem: the hub behind node:http at `/live/…`, memory broker or (S7) the Redis or PostgreSQL broker. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Broker, createHub, memoryBroker } from '../../packages/tandem/src/server';
import { type BenchPayload, type BenchServer, EVENT_TYPE, listenOptions, type ServerOptions } from './types';

export async function start(options: ServerOptions): Promise<BenchServer> {
  let broker: Broker = memoryBroker();
  let closeBroker = async () => {};
  const prefix = `bench:${process.pid}:`;
  let silentAppend: BenchServer['silentAppend'];
  if (options.redisUrl) {
    const { redisBroker } = await import('../../packages/tandem/src/redis');
    broker = redisBroker({ url: options.redisUrl, prefix });
    const silent = await silentAppender(options.redisUrl, prefix);
    silentAppend = silent.append;
    closeBroker = async () => {
      await silent.close();
      await broker.close();
    };
  }
  if (options.databaseUrl) {
    const { postgresBroker } = await import('../../packages/tandem/src/postgres');
    const postgres = postgresBroker({ connectionString: options.databaseUrl });
    await postgres.ready();
    broker = postgres;
    closeBroker = () => postgres.close();
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
    connections: () => hub.stats().connections,
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
    silentAppend,
    async close() {
      await hub.close();
      await closeBroker();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Appends with the Redis broker's own append script, but with a notification channel nobody
 * subscribes to: the event is in the log and no hub hears of it (a lost pub/sub message).
 */
async function silentAppender(url: string, prefix: string) {
  const { createClient } = await import('redis');
  const { APPEND_SCRIPT } = await import('../../packages/tandem/src/redis/scripts');
  const { channelKeys } = await import('../../packages/tandem/src/redis/runner');
  const { newLife } = await import('../../packages/tandem/src/redis/life');
  const { BROKER_DEFAULTS } = await import('../../packages/tandem/src/broker');
  const { newEpoch } = await import('../../packages/tandem/src/protocol');
  const client = createClient({ url });
  await client.connect();
  return {
    async append(channel: string, data: BenchPayload): Promise<number> {
      const reply = (await client.sendCommand([
        'EVAL',
        APPEND_SCRIPT,
        '5',
        ...channelKeys(prefix, channel),
        newEpoch(),
        String(BROKER_DEFAULTS.retentionMs),
        String(BROKER_DEFAULTS.idleTtlMs),
        String(BROKER_DEFAULTS.maxEventsPerChannel),
        'nobody-listens',
        String(BROKER_DEFAULTS.idempotencyWindowMs),
        newLife(),
        EVENT_TYPE,
        JSON.stringify(data),
        '',
      ])) as [string, number, number];
      return Number(reply[1]);
    },
    close: () => client.close(),
  };
}
