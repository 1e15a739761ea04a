import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresBroker } from '../../src/postgres';
import { createHub } from '../../src/server';
import type { Recording } from '../client/harness';
import { type ChildHub, startChildHub } from '../helpers/child-hub';
import { expectNoLossThroughFailover, followOrders } from '../helpers/failover';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { type PostgresServer, startPostgres } from '../helpers/postgres-server';
import { sleep, until } from '../helpers/wait';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const fixture = fileURLToPath(new URL('./fixtures/hub-process.ts', import.meta.url));

/** A hub on PostgreSQL in this process, served on loopback. */
async function startPostgresHub(url: string): Promise<HubServer> {
  const broker = postgresBroker({ connectionString: url, commandTimeoutMs: 1000, headCheckMs: 1000 });
  await broker.ready();
  const server = await startHubServer(createHub({ broker, heartbeatMs: 500 }));
  return {
    ...server,
    async close() {
      await server.close();
      await broker.close();
    },
  };
}

describe('Tandem on PostgreSQL through failures', () => {
  let server: PostgresServer | undefined;
  let proxy: FaultProxy | undefined;
  let child: ChildHub | undefined;
  const hubs: HubServer[] = [];
  const clients: Recording[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.client.close();
    await proxy?.close();
    await child?.kill9();
    await Promise.all(hubs.splice(0).map((h) => h.close()));
    await server?.stop();
    proxy = child = server = undefined;
  });

  const follow = (url: string, count: number) => clients.push(...followOrders(url, count));

  it('keeps streams open while PostgreSQL restarts under load, and delivers every acknowledged event once', async () => {
    server = await startPostgres();
    const hub = await startPostgresHub(server.url);
    hubs.push(hub);
    follow(`${hub.url}/live`, 4);
    expect(await until(() => clients.every((c) => c.client.getState().status === 'open'), 10_000)).toBe(true);

    const acknowledged: number[] = [];
    const refused = new Set<string>();
    let refusals = 0;
    let n = 0;
    let stop = false;
    const publisher = (async () => {
      while (!stop) {
        const i = ++n;
        try {
          await hub.hub.publish('tenant:acme/orders', 'order:created', { n: i });
          acknowledged.push(i);
        } catch (error) {
          refused.add((error as { code?: string }).code ?? String(error));
          refusals++;
          await sleep(20);
        }
        if (i % 5 === 0) await sleep(5);
      }
    })();
    expect(await until(() => acknowledged.length >= 50, 10_000)).toBe(true);
    await server.kill9();
    expect(await until(() => refused.size > 0, 10_000)).toBe(true);
    // Down for a while (30 publishes refused, 20 ms apart): the streams stay up on their heartbeats.
    expect(await until(() => refusals >= 30, 20_000)).toBe(true);
    expect(clients.every((c) => c.client.getState().status === 'open')).toBe(true);
    const before = acknowledged.length;
    await server.start();
    expect(await until(() => acknowledged.length >= before + 50, 20_000)).toBe(true);
    stop = true;
    await publisher;

    expect([...refused]).toEqual(['broker_unavailable']);
    expect(acknowledged.length).toBeGreaterThan(100);
    for (const c of clients) {
      expect(
        await until(
          () => acknowledged.every((i) => c.events.some((e) => (e.data as { n: number }).n === i)),
          20_000,
        ),
      ).toBe(true);
      expect(c.violations).toEqual([]);
      expect(c.resyncs).toEqual([]);
      expect(c.events.map((e) => e.offset)).toEqual(range(1, c.events.length));
    }
  }, 90_000);

  it('starts while PostgreSQL is down: publishes are refused at once, and all works once it is up', async () => {
    server = await startPostgres();
    await server.stopFast();
    const broker = postgresBroker({ connectionString: server.url, commandTimeoutMs: 1000, headCheckMs: 500 });
    try {
      const started = Date.now();
      await expect(broker.append('down:orders', 't', 1)).rejects.toMatchObject({
        code: 'broker_unavailable',
      });
      await expect(broker.read('down:orders', 0)).rejects.toMatchObject({ code: 'broker_unavailable' });
      expect(Date.now() - started).toBeLessThan(5000);
      const seen: number[] = [];
      broker.subscribe('down:orders', (e) => seen.push(e.data as number));
      await server.start();
      // A subscription made while the store was down takes its baseline (the head) once the
      // store is back; what was committed before that baseline is the hub's read's to deliver
      // (from the client's cursor), not the feed's. From the baseline on, every event comes live,
      // in order: publish until one arrives, then one more.
      let n = 0;
      await expect
        .poll(
          async () => {
            await broker.append('down:orders', 't', ++n).catch(() => n--);
            return seen.length > 0;
          },
          { timeout: 30_000, interval: 100 },
        )
        .toBe(true);
      const last = ++n;
      await broker.append('down:orders', 't', last);
      expect(await until(() => seen.includes(last), 10_000)).toBe(true);
      // No hole after the first event delivered live, nothing twice.
      expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => seen[0]! + i));
    } finally {
      await broker.close();
    }
  }, 60_000);

  it('moves clients from a hub killed with -9 to a live one with every event once, in order', async () => {
    server = await startPostgres();
    child = await startChildHub(fixture, { DATABASE_URL: server.url });
    const hubB = await startPostgresHub(server.url);
    hubs.push(hubB);
    // The "load balancer": every client reaches the child hub through it until it dies.
    proxy = await startFaultProxy(Number(new URL(child.url).port));
    follow(proxy.url('/live'), 4);
    await expectNoLossThroughFailover(
      clients,
      (channel, type, data) => hubB.hub.publish(channel, type, data),
      async () => {
        proxy!.retarget(Number(new URL(hubB.url).port));
        await child!.kill9();
      },
    );
  }, 90_000);
});
