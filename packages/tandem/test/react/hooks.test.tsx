// @vitest-environment happy-dom
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueryClient } from '@tanstack/react-query';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { type ReactNode, version as reactVersion, StrictMode } from 'react';
import { version as reactDomVersion } from 'react-dom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLiveClient } from '../../src/client';
import type { EventMeta, LiveClient } from '../../src/client/types';
import { encodeCursor } from '../../src/protocol';
import {
  type InvalidationMap,
  LiveProvider,
  type UseLiveQueryOptions,
  useLiveClient,
  useLiveEvent,
  useLiveInvalidation,
  useLiveQuery,
  useLiveStatus,
} from '../../src/react';
import { createHub, type Hub } from '../../src/server';
import { type FakeEnv, fakeEnv } from '../helpers/fake-env';

const CHANNEL = 'tenant:acme/orders';

interface Harness {
  hub: Hub;
  server: Server;
  base: string;
  /** While true, new streams get 503 (polls still work): the client reconnects. */
  refuseStreams: boolean;
}

let h: Harness;
const clients: LiveClient[] = [];
/**
 * The queries' clock and timers. Hub, sockets and client run in real time; only the query's
 * schedule (coalescing, intervals) runs on this clock, so an absence ("no fetch follows") is
 * proven by advancing it past the moment a fetch would be due, not by sleeping.
 */
let env: FakeEnv;
/** The options that put a query on `env`. */
const onFakeTime = () => ({ timers: env.timers, now: env.now });
/** Moves the queries' clock forward, firing what falls due, inside React's `act`. */
const advance = (ms: number) => act(() => env.advance(ms));

beforeEach(async () => {
  env = fakeEnv();
  const hub = createHub({ heartbeatMs: 1_000 });
  const node = hub.node;
  const harness = { hub, refuseStreams: false } as Harness;
  harness.server = createServer((req, res) => {
    if (harness.refuseStreams && req.url?.includes('/stream')) {
      res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '0' });
      res.end(JSON.stringify({ error: { code: 'shutting_down', message: 'refused by the test' } }));
      return;
    }
    node(req, res);
  });
  await new Promise<void>((resolve) => harness.server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(harness.server.address() as AddressInfo).port}`;
  // The page lives on the hub's origin, as it would behind one Next.js server.
  (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(`${origin}/`);
  harness.base = `${origin}/api/live`;
  h = harness;
});

afterEach(async () => {
  cleanup();
  for (const client of clients.splice(0)) client.close();
  await h.hub.close();
  h.server.closeAllConnections();
  await new Promise<void>((resolve) => h.server.close(() => resolve()));
});

/**
 * happy-dom's fetch keeps an HTTP cache and fails on a 304 it did not cache itself (the poller
 * sends its own If-None-Match). Browsers hand such a 304 to the page; `no-cache` makes happy-dom
 * do the same.
 */
const uncachedFetch = (input: string, init: RequestInit) => {
  const headers = new Headers(init.headers);
  headers.set('Cache-Control', 'no-cache');
  return fetch(input, { ...init, headers });
};

function newClient(options: { cursor?: string } = {}): LiveClient {
  const client = createLiveClient({
    url: h.base,
    channels: [CHANNEL],
    storage: null,
    // Polls would also deliver events; keep the stream the only path unless a test says otherwise.
    poll: { openIntervalMs: 60_000, closedIntervalMs: 200 },
    fetch: uncachedFetch,
    ...options,
  });
  clients.push(client);
  return client;
}

function wrapper(client: LiveClient) {
  return ({ children }: { children: ReactNode }) => <LiveProvider client={client}>{children}</LiveProvider>;
}

function Status() {
  const state = useLiveStatus();
  return <span data-testid="status">{state.status}</span>;
}

function Orphan() {
  useLiveClient();
  return null;
}

function EventProbe({ type, onEvent }: { type: string; onEvent: (data: unknown, meta: EventMeta) => void }) {
  useLiveEvent(type, onEvent);
  return null;
}

function QueryProbe({
  fetcher,
  options,
}: {
  fetcher: (signal: AbortSignal) => Promise<unknown>;
  options?: UseLiveQueryOptions;
}) {
  const query = useLiveQuery(fetcher, options);
  return <span data-testid="data">{String(query.data)}</span>;
}

function InvalidationProbe({ queryClient, map }: { queryClient: QueryClient; map: InvalidationMap }) {
  useLiveInvalidation(queryClient, map);
  return null;
}

const waitOpen = () =>
  waitFor(() => expect(screen.getByTestId('status').textContent).toBe('open'), { timeout: 5_000 });

describe('React versions', () => {
  it('runs on the React major of its test project (19 by default, 18 in the react18 project)', () => {
    const major = process.env.TANDEM_TEST_REACT ?? '19';
    expect(reactVersion.split('.')[0]).toBe(major);
    expect(reactDomVersion.split('.')[0]).toBe(major);
  });
});

describe('LiveProvider and useLiveStatus', () => {
  it('runs the client while mounted: one stream under StrictMode, none after unmount', async () => {
    const client = newClient();
    expect(client.getState().status).toBe('idle');
    const view = render(
      <StrictMode>
        <LiveProvider client={client}>
          <Status />
        </LiveProvider>
      </StrictMode>,
    );
    await waitOpen();
    expect(h.hub.stats().connections).toBe(1);
    view.unmount();
    await waitFor(() => expect(client.getState().status).toBe('idle'));
    await waitFor(() => expect(h.hub.stats().connections).toBe(0));
  });

  it('reports the connection state as it changes', async () => {
    const client = newClient();
    render(<Status />, { wrapper: wrapper(client) });
    await waitOpen();
    act(() => client.close());
    expect(screen.getByTestId('status').textContent).toBe('closed');
  });

  it('refuses to run outside a provider', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => render(<Orphan />)).toThrow(/LiveProvider/);
    spy.mockRestore();
  });
});

describe('useLiveEvent', () => {
  it('delivers events to the latest handler without resubscribing on each render', async () => {
    const client = newClient();
    const onSpy = vi.spyOn(client, 'on');
    const seen: string[] = [];
    const handler = (label: string) => (data: unknown, meta: EventMeta) => {
      seen.push(`${label}:${(data as { id: number }).id}@${meta.offset}`);
    };
    const view = render(
      <>
        <Status />
        <EventProbe type="order:created" onEvent={handler('a')} />
      </>,
      { wrapper: wrapper(client) },
    );
    await waitOpen();
    await h.hub.publish(CHANNEL, 'order:created', { id: 1 });
    await waitFor(() => expect(seen).toHaveLength(1));
    for (const label of ['b', 'c']) {
      view.rerender(
        <>
          <Status />
          <EventProbe type="order:created" onEvent={handler(label)} />
        </>,
      );
    }
    await h.hub.publish(CHANNEL, 'order:created', { id: 2 });
    await waitFor(() => expect(seen).toHaveLength(2));
    expect(seen).toEqual(['a:1@1', 'c:2@2']);
    expect(onSpy).toHaveBeenCalledTimes(1);
  });
});

describe('useLiveQuery', () => {
  it('loads once, then refetches once for a burst of listed events', async () => {
    const client = newClient();
    let fetches = 0;
    let delivered = 0;
    render(
      <>
        <Status />
        <EventProbe
          type="order:created"
          onEvent={() => {
            delivered++;
          }}
        />
        <QueryProbe
          fetcher={async () => ++fetches}
          options={{ refetchOn: ['order:created'], coalesceMs: 25, ...onFakeTime() }}
        />
      </>,
      { wrapper: wrapper(client) },
    );
    await waitFor(() => expect(screen.getByTestId('data').textContent).toBe('1'));
    await waitOpen();

    await Promise.all(Array.from({ length: 20 }, (_, i) => h.hub.publish(CHANNEL, 'order:created', { i })));
    await waitFor(() => expect(delivered).toBe(20));
    // All 20 arrived inside one coalescing window, however slowly loopback delivered them: the
    // window is on the query's clock, which has not moved.
    expect(fetches).toBe(1);
    await advance(25);
    await waitFor(() => expect(screen.getByTestId('data').textContent).toBe('2'));
    // The absence: nothing follows the burst until the connected interval (10 s) is due...
    await advance(9_999);
    expect(fetches).toBe(2);
    // ...and then the interval's fetch, which shows the clock was driving the schedule.
    await advance(1);
    expect(fetches).toBe(3);
  });

  it('ignores event types it was not asked to follow', async () => {
    const client = newClient();
    let fetches = 0;
    let delivered = 0;
    render(
      <>
        <Status />
        <EventProbe
          type="order:shipped"
          onEvent={() => {
            delivered++;
          }}
        />
        <QueryProbe
          fetcher={async () => ++fetches}
          options={{ refetchOn: ['order:created'], coalesceMs: 10, ...onFakeTime() }}
        />
      </>,
      { wrapper: wrapper(client) },
    );
    await waitOpen();
    await waitFor(() => expect(fetches).toBe(1));
    await h.hub.publish(CHANNEL, 'order:shipped', { id: 1 });
    await waitFor(() => expect(delivered).toBe(1));
    // The absence: the query's clock moves through hundreds of coalescing windows (10 ms) after
    // the event, short of the interval (10 s), and no fetch falls due.
    await advance(5_000);
    expect(fetches).toBe(1);
  });

  it('refetches when the server reports a resync', async () => {
    // A cursor from a log that no longer exists: the hub answers with `resync` for the channel.
    const client = newClient({
      cursor: encodeCursor({ [CHANNEL]: { epoch: 'gone0000', offset: 41 } }),
    });
    const resyncs: string[][] = [];
    client.onResync((channels) => resyncs.push(channels));
    let fetches = 0;
    render(<QueryProbe fetcher={async () => ++fetches} options={{ coalesceMs: 10, ...onFakeTime() }} />, {
      wrapper: wrapper(client),
    });
    await waitFor(() => expect(resyncs).toHaveLength(1));
    expect(resyncs[0]).toEqual([CHANNEL]);
    // The resync's refetch waits for its coalescing window (or for the first fetch to end).
    await advance(10);
    await waitFor(() => expect(screen.getByTestId('data').textContent).toBe('2'));
    // The absence: the resync caused one refetch, not more, over many windows short of the
    // interval.
    await advance(2_000);
    expect(fetches).toBe(2);
  });

  it('refetches on the adaptive interval: slowly while the stream is open, fast while it is down', async () => {
    const client = newClient();
    const stamps: number[] = [];
    render(
      <>
        <Status />
        <QueryProbe
          fetcher={async () => stamps.push(env.now())}
          options={{ connectedIntervalMs: 1_500, disconnectedIntervalMs: 100, ...onFakeTime() }}
        />
      </>,
      { wrapper: wrapper(client) },
    );
    await waitOpen();
    await waitFor(() => expect(stamps).toHaveLength(1));
    // While open, the next fetch is due 1.5 s after the last one: not a moment earlier.
    await advance(1_499);
    expect(stamps).toHaveLength(1);
    await advance(1);
    expect(stamps).toHaveLength(2);

    // The stream drops and new ones are refused: the client reconnects, the query speeds up.
    h.refuseStreams = true;
    h.hub.disconnect({ channel: CHANNEL });
    await waitFor(() => expect(screen.getByTestId('status').textContent).not.toBe('open'), {
      timeout: 5_000,
    });
    for (let i = 1; i <= 5; i++) {
      await advance(100);
      expect(stamps).toHaveLength(2 + i);
    }

    // Back online: the slow interval again, counted from the last fetch.
    h.refuseStreams = false;
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('open'), { timeout: 8_000 });
    const reopened = stamps.length;
    // The absence: the fast rate would have fetched 14 times in this span; the slow one, not once.
    await advance(1_499);
    expect(stamps).toHaveLength(reopened);
    await advance(1);
    expect(stamps).toHaveLength(reopened + 1);
    expect(stamps.at(-1)! - stamps.at(-2)!).toBe(1_500);
  });

  it('aborts the running fetch on unmount and does nothing afterwards', async () => {
    const client = newClient();
    const signals: AbortSignal[] = [];
    const errors = vi.spyOn(console, 'error');
    let release: (() => void) | null = null;
    const fetcher = (signal: AbortSignal) => {
      signals.push(signal);
      return new Promise<number>((resolve) => {
        release = () => resolve(1);
      });
    };
    const view = render(
      <>
        <Status />
        <QueryProbe
          fetcher={fetcher}
          options={{
            refetchOn: ['order:created'],
            connectedIntervalMs: 50,
            disconnectedIntervalMs: 50,
            coalesceMs: 1,
            ...onFakeTime(),
          }}
        />
      </>,
      { wrapper: wrapper(client) },
    );
    await waitOpen();
    expect(signals).toHaveLength(1);
    view.unmount();
    expect(signals[0]!.aborted).toBe(true);
    release!();
    await h.hub.publish(CHANNEL, 'order:created', { id: 1 });
    // The absences: no timer of the query is left, and a second of its clock (twenty 50 ms
    // intervals) brings no fetch.
    expect(env.pending()).toBe(0);
    await advance(1_000);
    expect(signals).toHaveLength(1);
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
  });

  it('fetches nothing while disabled, and loads once enabled', async () => {
    const client = newClient();
    let fetches = 0;
    let delivered = 0;
    const ui = (enabled: boolean) => (
      <>
        <Status />
        <EventProbe
          type="order:created"
          onEvent={() => {
            delivered++;
          }}
        />
        <QueryProbe
          fetcher={async () => ++fetches}
          options={{
            enabled,
            refetchOn: ['order:created'],
            connectedIntervalMs: 50,
            disconnectedIntervalMs: 50,
            coalesceMs: 1,
            ...onFakeTime(),
          }}
        />
      </>
    );
    const view = render(ui(false), { wrapper: wrapper(client) });
    await waitOpen();
    await h.hub.publish(CHANNEL, 'order:created', { id: 1 });
    await waitFor(() => expect(delivered).toBe(1));
    // Absences, here and below: the event arrived, no timer of the query waits, and a second of
    // its clock (twenty 50 ms intervals) brings no fetch.
    expect(env.pending()).toBe(0);
    await advance(1_000);
    expect(fetches).toBe(0);
    expect(screen.getByTestId('data').textContent).toBe('undefined');
    view.rerender(ui(true));
    await waitFor(() => expect(screen.getByTestId('data').textContent).not.toBe('undefined'));
    view.rerender(ui(false));
    const stopped = fetches;
    expect(env.pending()).toBe(0);
    await advance(1_000);
    expect(fetches).toBe(stopped);
  });

  it('survives strict mode: one live fetch, the first one aborted', async () => {
    const client = newClient();
    const signals: AbortSignal[] = [];
    render(
      <StrictMode>
        <LiveProvider client={client}>
          <Status />
          <QueryProbe
            fetcher={async (signal) => {
              signals.push(signal);
              return 'loaded';
            }}
          />
        </LiveProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(screen.getByTestId('data').textContent).toBe('loaded'));
    await waitOpen();
    expect(signals.filter((signal) => !signal.aborted)).toHaveLength(1);
  });
});

describe('useLiveInvalidation', () => {
  const map: InvalidationMap = {
    'order:created': ['orders'],
    'order:shipped': (data: { id: number }) => ['order', data.id],
  };

  it('invalidates mapped keys once per burst', async () => {
    const client = newClient();
    const queryClient = new QueryClient();
    const invalidate = vi.spyOn(queryClient, 'invalidateQueries');
    let delivered = 0;
    render(
      <>
        <Status />
        <EventProbe
          type="order:shipped"
          onEvent={() => {
            delivered++;
          }}
        />
        <InvalidationProbe queryClient={queryClient} map={map} />
      </>,
      { wrapper: wrapper(client) },
    );
    await waitOpen();

    // Appended in one tick, fanned out in one write: one invalidation per distinct key.
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => h.hub.publish(CHANNEL, 'order:created', { i })),
      h.hub.publish(CHANNEL, 'order:shipped', { id: 7 }),
      h.hub.publish(CHANNEL, 'order:shipped', { id: 7 }),
    ]);
    await waitFor(() => expect(delivered).toBe(2));
    await waitFor(() => expect(invalidate.mock.calls.length).toBeGreaterThanOrEqual(2));
    const keys = invalidate.mock.calls.map(([filters]) => JSON.stringify(filters?.queryKey));
    expect(keys).toContain('["orders"]');
    expect(keys).toContain('["order",7]');
    // 12 events, 2 distinct keys: one invalidation each (a split TCP read may add one more).
    expect(keys.length).toBeLessThanOrEqual(4);
  });

  it('invalidates the fixed keys when continuity is lost', async () => {
    const client = newClient({
      cursor: encodeCursor({ [CHANNEL]: { epoch: 'gone0000', offset: 3 } }),
    });
    const queryClient = new QueryClient();
    const invalidate = vi.spyOn(queryClient, 'invalidateQueries');
    render(<InvalidationProbe queryClient={queryClient} map={map} />, { wrapper: wrapper(client) });
    await waitFor(() => expect(invalidate).toHaveBeenCalledTimes(1));
    expect(invalidate.mock.calls[0]![0]).toEqual({ queryKey: ['orders'] });
  });
});
