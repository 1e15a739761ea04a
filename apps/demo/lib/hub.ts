import { jwtAuthorizer } from 'tandem/jwt';
import { encodeCursor, type LiveEvent, type PresenceView, parseChannelList } from 'tandem/protocol';
import { type Broker, createHub, type Hub, memoryBroker } from 'tandem/server';
import { ORDER_CREATED, type Order, randomOrder } from './orders';
import { ordersChannel, TENANTS, type Tenant, tenantPattern } from './tenants';
import { demoSecret } from './tokens';

/**
 * How long "cut connection" refuses the tenant's new streams, so the fallback to polling is
 * visible. `DEMO_CUT_REFUSAL_MS` overrides it (the e2e test widens it to leave the poller room).
 */
export const CUT_REFUSAL_MS = Number(process.env.DEMO_CUT_REFUSAL_MS) || 5_000;

/**
 * For the end-to-end test only: the server render waits this long after reading the cursor
 * and again after loading the orders, so that events surely fall in both windows.
 */
const SSR_DELAY_MS = Number(process.env.DEMO_SSR_DELAY_MS) || 0;

/** Most orders a page is rendered with (and keeps). */
export const SNAPSHOT_ORDERS = 300;

/** What a tenant's panel is server-rendered with. */
export interface TenantSnapshot {
  /** Where the live client starts: read before the orders were loaded. */
  cursor: string;
  epoch: string;
  /** Offset of the newest order loaded: every order up to it is in the snapshot's count. */
  head: number;
  /** The newest orders, oldest first, at most `SNAPSHOT_ORDERS`. */
  orders: { order: Order; channel: string; epoch: string; offset: number; ts: number }[];
}

const pause = (ms: number) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined);

/** The generator publishes one order every 0.6–2 s. */
const GENERATOR_MIN_MS = 600;
const GENERATOR_MAX_MS = 2_000;

/**
 * Everything the demo's server keeps: one hub per process, on `globalThis` so that route
 * modules (bundled separately) and development reloads all share it.
 */
export interface Demo {
  hub: Hub;
  broker: Broker;
  brokerName: 'memory' | 'redis' | 'postgres';
  publish(tenant: Tenant, order: Order): ReturnType<Hub['publish']>;
  setGenerator(tenant: Tenant, on: boolean): void;
  generatorOn(tenant: Tenant): boolean;
  /** Drops the tenant's streams now and refuses new ones for `CUT_REFUSAL_MS`. */
  cut(tenant: Tenant): number;
  /** Milliseconds left in the tenant's refusal window (0 when none). */
  refusingFor(tenant: Tenant): number;
  /** A 503 answer when the request opens a stream on a channel of a tenant just cut, else null. */
  refusal(request: Request): Response | null;
  stats(tenant: Tenant): Promise<TenantStats>;
  /** The cursor, then the retained orders: what a new page is rendered with. */
  snapshot(tenant: Tenant): Promise<TenantSnapshot>;
}

export interface TenantStats {
  tenant: string;
  channel: string;
  epoch: string;
  /** Offset of the newest order: how many were ever published in this epoch. */
  head: number;
  /** A cursor at `head`, to start a client exactly there. */
  cursor: string;
  generator: boolean;
  refusingStreamsForMs: number;
  broker: 'memory' | 'redis' | 'postgres';
  /** Streams the hub holds now, all tenants together (tabs of one browser share one per tenant). */
  streams: number;
  /** Who is viewing the tenant's orders: browsers (tabs of one share a stream) across every hub. */
  viewers: PresenceView;
  serverTime: number;
}

const DEMO_KEY = Symbol.for('tandem.demo');

export function getDemo(): Promise<Demo> {
  const store = globalThis as { [DEMO_KEY]?: Promise<Demo> };
  store[DEMO_KEY] ??= createDemo().catch((error: unknown) => {
    store[DEMO_KEY] = undefined;
    throw error;
  });
  return store[DEMO_KEY];
}

/**
 * Ends the demo for a shutdown (see instrumentation.ts): generators stop, every stream gets
 * `tandem:bye` and its client moves to the next process, then the broker closes. Nothing to do
 * if no request ever created the demo.
 */
export async function closeDemo(): Promise<void> {
  const store = globalThis as { [DEMO_KEY]?: Promise<Demo> };
  const demo = await store[DEMO_KEY]?.catch(() => undefined);
  if (!demo) return;
  for (const tenant of TENANTS) demo.setGenerator(tenant, false);
  await demo.hub.close();
  await demo.broker.close();
}

async function createBroker(): Promise<{
  broker: Broker;
  brokerName: Demo['brokerName'];
  /** How an order is stored and published, when not by `hub.publish` alone. */
  publishOrder?: (channel: string, order: Order) => Promise<LiveEvent>;
}> {
  const database = process.env.DATABASE_URL;
  if (database) {
    // The order and its event in one transaction (lib/postgres-orders.ts).
    const { postgresDemo } = await import('./postgres-orders');
    return { ...(await postgresDemo(database)), brokerName: 'postgres' };
  }
  const url = process.env.REDIS_URL;
  if (!url) return { broker: memoryBroker(), brokerName: 'memory' };
  // Loaded only when asked for, so the demo runs where Redis is not installed.
  const { redisBroker } = await import('tandem/redis');
  return { broker: redisBroker({ url }), brokerName: 'redis' };
}

async function createDemo(): Promise<Demo> {
  const { broker, brokerName, publishOrder } = await createBroker();
  // Presence: each panel shows who is viewing its tenant (the grace keeps a reload from counting
  // as a leave and a join).
  const hub = createHub({ broker, authorize: jwtAuthorizer({ secret: demoSecret() }), presence: true });
  const generators = new Map<string, ReturnType<typeof setTimeout>>();
  const refusedUntil = new Map<string, number>();

  const publish = (tenant: Tenant, order: Order) =>
    publishOrder
      ? (publishOrder(ordersChannel(tenant.id), order) as ReturnType<Hub['publish']>)
      : hub.publish(ordersChannel(tenant.id), ORDER_CREATED, order);

  const refusingFor = (tenant: Tenant) => Math.max(0, (refusedUntil.get(tenant.id) ?? 0) - Date.now());

  const setGenerator = (tenant: Tenant, on: boolean) => {
    clearTimeout(generators.get(tenant.id));
    generators.delete(tenant.id);
    if (!on) return;
    const tick = () => {
      const delay = GENERATOR_MIN_MS + Math.random() * (GENERATOR_MAX_MS - GENERATOR_MIN_MS);
      const timer = setTimeout(() => {
        publish(tenant, randomOrder('generator')).catch((error: unknown) => {
          console.error(`[demo] generator for ${tenant.id} failed to publish`, error);
        });
        if (generators.get(tenant.id) === timer) tick();
      }, delay);
      timer.unref?.();
      generators.set(tenant.id, timer);
    };
    tick();
  };

  return {
    hub,
    broker,
    brokerName,
    publish,
    setGenerator,
    generatorOn: (tenant) => generators.has(tenant.id),
    cut(tenant) {
      refusedUntil.set(tenant.id, Date.now() + CUT_REFUSAL_MS);
      return hub.disconnect({ channel: tenantPattern(tenant.id) });
    },
    refusingFor,
    refusal(request) {
      const url = new URL(request.url);
      if (!url.pathname.endsWith('/stream')) return null;
      let channels: string[];
      try {
        channels = parseChannelList(url.searchParams.get('channels'));
      } catch {
        return null; // the hub answers bad requests itself
      }
      let waitMs = 0;
      for (const [tenantId, until] of refusedUntil) {
        const prefix = `tenant:${tenantId}/`;
        if (channels.some((channel) => channel.startsWith(prefix)))
          waitMs = Math.max(waitMs, until - Date.now());
      }
      if (waitMs <= 0) return null;
      return Response.json(
        {
          error: {
            code: 'shutting_down',
            message: `connection cut in the demo: new streams refused for ${Math.ceil(waitMs / 1000)} s, orders come by polling`,
          },
        },
        {
          status: 503,
          headers: { 'Retry-After': String(Math.ceil(waitMs / 1000)), 'Cache-Control': 'no-store' },
        },
      );
    },
    async snapshot(tenant) {
      const channel = ordersChannel(tenant.id);
      // The cursor first: whatever is published after it reaches the page, by the stream if it
      // is not in the orders loaded next (and the page drops what is in both).
      const cursor = await hub.cursor([channel]);
      await pause(SSR_DELAY_MS);
      const log = await broker.read(channel, 0);
      await pause(SSR_DELAY_MS);
      return {
        cursor,
        epoch: log.epoch,
        head: log.head,
        orders: log.events.slice(-SNAPSHOT_ORDERS).map((event) => ({
          order: event.data as Order,
          channel,
          epoch: event.epoch,
          offset: event.offset,
          ts: event.ts,
        })),
      };
    },
    async stats(tenant) {
      const channel = ordersChannel(tenant.id);
      const { epoch, head } = await broker.info(channel);
      return {
        tenant: tenant.id,
        channel,
        epoch,
        head,
        cursor: encodeCursor({ [channel]: { epoch, offset: head } }),
        generator: generators.has(tenant.id),
        refusingStreamsForMs: refusingFor(tenant),
        broker: brokerName,
        streams: hub.stats().connections,
        viewers: await hub.presence(channel),
        serverTime: Date.now(),
      };
    },
  };
}
