import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { prometheusMetrics } from '../../src/prometheus';
import { encodeCursor, type PollResponse } from '../../src/protocol';
import { createHub, type HubOptions, type MetricsSink } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { getJson, openRaw } from './sse-reader';

let server: HubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of the Prometheus text format 0.0.4: every line is a `# HELP`, a `# TYPE`
 * or a sample `name{label="value",…} number`; anything else fails the test.
 */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!sample) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const m of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[m[1]!] = m[2]!;
    samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  return { samples, types };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found.reduce((sum, s) => sum + s.value, 0);
}

describe('/metrics', () => {
  it('parses as Prometheus text and counts exactly what happened', async () => {
    server = await startHubServer(
      createHub({ metrics: prometheusMetrics(), metricsEndpoint: { authorize: () => true } }),
    );
    const { hub, url } = server;
    const streams = await Promise.all([1, 2, 3].map(() => openRaw(`${url}/stream?channels=m`)));
    await Promise.all(streams.map((s) => s.next((e) => e.type === 'tandem:hello')));
    let epoch = '';
    for (let i = 1; i <= 5; i++) ({ epoch } = await hub.publish('m', 'x', i));
    await Promise.all(streams.map((s) => s.next((e) => e.type === 'x' && JSON.parse(e.data).data === 5)));

    // Polls: one with events (a replay), one empty, one 304, one resync.
    const first = (
      await getJson(`${url}/poll?channels=m&cursor=${encodeCursor({ m: { epoch, offset: 3 } })}`)
    ).body as PollResponse;
    expect(first.events).toHaveLength(2);
    const empty = await getJson(`${url}/poll?channels=m&cursor=${first.cursor}`);
    expect(empty.status).toBe(200);
    const notModified = await getJson(`${url}/poll?channels=m&cursor=${first.cursor}`, {
      'if-none-match': empty.headers.get('etag')!,
    });
    expect(notModified.status).toBe(304);
    await getJson(`${url}/poll?channels=m&cursor=garbage`);
    // Refusals.
    await getJson(`${url}/stream?channels=bad%20name`);
    streams[0]!.close();
    await streams[0]!.ended;
    await vi.waitFor(() => expect(hub.stats().connections).toBe(2), { timeout: 10_000 });

    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const { samples, types } = parsePrometheus(await response.text());

    expect(types.get('tandem_connections')).toBe('gauge');
    expect(types.get('tandem_delivery_lag_seconds')).toBe('histogram');
    expect(value(samples, 'tandem_connections')).toBe(2);
    expect(value(samples, 'tandem_connections_opened_total')).toBe(3);
    expect(value(samples, 'tandem_connections_closed_total', { reason: 'aborted' })).toBe(1);
    expect(value(samples, 'tandem_publishes_total')).toBe(5);
    expect(value(samples, 'tandem_deliveries_total')).toBe(15);
    expect(value(samples, 'tandem_delivery_lag_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'tandem_delivery_lag_seconds_count')).toBeLessThanOrEqual(5);
    expect(value(samples, 'tandem_replays_total')).toBe(1);
    expect(value(samples, 'tandem_replayed_events_total')).toBe(2);
    expect(value(samples, 'tandem_resyncs_total', { reason: 'cursor' })).toBe(1);
    expect(value(samples, 'tandem_slow_consumer_drops_total')).toBe(0);
    expect(value(samples, 'tandem_polls_total', { result: 'events' })).toBe(1);
    expect(value(samples, 'tandem_polls_total', { result: 'empty' })).toBe(1);
    expect(value(samples, 'tandem_polls_total', { result: 'not_modified' })).toBe(1);
    expect(value(samples, 'tandem_polls_total', { result: 'resync' })).toBe(1);
    expect(value(samples, 'tandem_errors_total', { code: 'invalid_channel' })).toBe(1);
    for (const s of streams) s.close();
  });

  it('sits behind its own authorizer, and two hubs in one process keep separate registries', async () => {
    const metrics = prometheusMetrics();
    const hub = createHub({
      metrics,
      metricsEndpoint: {
        authorize: (request) => request.headers.get('authorization') === 'Bearer metrics-key',
      },
    });
    server = await startHubServer(hub);
    const otherMetrics = prometheusMetrics();
    const other = createHub({ metrics: otherMetrics });
    await other.publish('z', 'x', 1);
    const denied = await getJson(`${server.url}/metrics`);
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ error: { code: 'forbidden' } });
    const allowed = await fetch(`${server.url}/metrics`, {
      headers: { authorization: 'Bearer metrics-key' },
    });
    expect(allowed.status).toBe(200);
    expect(value(parsePrometheus(await allowed.text()).samples, 'tandem_publishes_total')).toBe(0);
    // The refusal was counted, in this hub's registry only.
    const own = parsePrometheus((await metrics.render()).body).samples;
    expect(value(own, 'tandem_errors_total', { code: 'forbidden' })).toBe(1);
    const others = parsePrometheus((await otherMetrics.render()).body).samples;
    expect(value(others, 'tandem_publishes_total')).toBe(1);
    expect(value(others, 'tandem_errors_total')).toBe(0);
    await other.close();
  });

  it('keeps its names under a prefix, in the registry it is given', async () => {
    const { Registry } = await import('prom-client');
    const registry = new Registry();
    const hub = createHub({ metrics: prometheusMetrics({ prefix: 'live_', registry }) });
    await hub.publish('p', 'x', 1);
    expect(await registry.getSingleMetricAsString('live_publishes_total')).toMatch(
      /^live_publishes_total 1$/m,
    );
    await hub.close();
  });

  const unserved: [string, HubOptions][] = [
    ['a sink but no metricsEndpoint', { metrics: prometheusMetrics() }],
    ['metricsEndpoint but no sink', { metricsEndpoint: { authorize: () => true } }],
    [
      'a sink that cannot render',
      { metrics: { published() {} }, metricsEndpoint: { authorize: () => true } },
    ],
  ];
  it.each(unserved)('is not served with %s: 404, and middleware passes the path on', async (_, options) => {
    const hub = createHub(options);
    server = await startHubServer(hub);
    const missing = await getJson(`${server.url}/metrics`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'not_found' } });
    // As middleware the hub leaves /metrics to the app.
    const app = createServer((req, res) =>
      hub.node(req, res, () => {
        res.writeHead(418);
        res.end();
      }),
    );
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const { port } = app.address() as AddressInfo;
    try {
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(418);
      expect((await fetch(`http://127.0.0.1:${port}/poll?channels=x`)).status).toBe(200);
    } finally {
      app.closeAllConnections();
      await new Promise((resolve) => app.close(resolve));
    }
  });

  it('reports to any MetricsSink: a plain object of counters', async () => {
    const seen: Record<string, number> = {};
    const count = (name: string, by = 1) => {
      seen[name] = (seen[name] ?? 0) + by;
    };
    const sink: MetricsSink = {
      connectionOpened: () => count('opened'),
      connectionClosed: (reason) => count(`closed:${reason}`),
      published: () => count('published'),
      delivered: (n) => count('delivered', n),
      polled: (result) => count(`poll:${result}`),
      refused: (code) => count(`refused:${code}`),
    };
    server = await startHubServer(createHub({ metrics: sink }));
    const { hub, url } = server;
    const stream = await openRaw(`${url}/stream?channels=s`);
    await stream.next((e) => e.type === 'tandem:hello');
    await hub.publish('s', 'x', 1);
    await stream.next((e) => e.type === 'x');
    await getJson(`${url}/poll?channels=s`); // no cursor: from the head, empty
    await getJson(`${url}/poll?channels=bad%20name`);
    expect(hub.disconnect({})).toBe(1);
    await stream.ended;
    expect(seen).toEqual({
      opened: 1,
      published: 1,
      delivered: 1,
      'poll:empty': 1,
      'refused:invalid_channel': 1,
      'closed:server_closed': 1,
    });
  });
});
