/**
 * `npm run bench:demo [-- --events 50]`: the demo's publish → render latency. The demo runs as
 * its production build (`next start`, in-memory broker); Chromium shows the dashboard, and the
 * events are published one at a time through the demo's API, each once the previous one is on
 * screen. Each order's render time is when its row entered the DOM (a MutationObserver in the
 * page) minus its publish time (`ts`, stamped by the hub).
 *
 * The baseline, in the same run: a plain SSE reader in this process (fetch + Tandem's parser)
 * subscribed to the same channel through the same route. Its publish → receive latency is what
 * the server and the wire cost; the ratio render / receive is what the browser, the client and
 * React add on top. Both clocks are this machine's wall clock.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DemoApi,
  ensureBuild,
  launchBrowser,
  type Published,
  quantile,
  renderProbe,
  startDemo,
  waitForOffsets,
  waitForPill,
} from '../apps/demo/test/harness';
import { createParser } from '../packages/tandem/src/protocol';

const here = path.dirname(fileURLToPath(import.meta.url));
const TENANT = 'acme';
const CHANNEL = `tenant:${TENANT}/orders`;

function parseEvents(argv: readonly string[]): number {
  const at = argv.findIndex((a) => a === '--events' || a.startsWith('--events='));
  if (at < 0) return 50;
  const raw = argv[at]!.includes('=') ? argv[at]!.split('=')[1] : argv[at + 1];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new Error('--events needs a whole number from 1 to 10000');
  return n;
}

/** Reads the channel's stream in this process; records when each offset arrived. */
async function openReader(url: string, token: string) {
  const received = new Map<number, number>();
  const waiters = new Map<number, () => void>();
  const abort = new AbortController();
  const response = await fetch(`${url}/api/live/stream?channels=${encodeURIComponent(CHANNEL)}`, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' },
    signal: abort.signal,
  });
  if (response.status !== 200 || !response.body) throw new Error(`stream answered ${response.status}`);
  const parser = createParser({
    onEvent(event) {
      if (event.type.startsWith('tandem:')) return;
      const at = Date.now();
      const { offset } = JSON.parse(event.data) as { offset: number };
      received.set(offset, at);
      waiters.get(offset)?.();
    },
  });
  const reading = (async () => {
    const reader = response.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      parser.feed(value);
    }
  })().catch(() => {});
  return {
    received,
    /** Resolves once `offset` has arrived; rejects after 15 s. */
    arrived(offset: number): Promise<void> {
      if (received.has(offset)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`offset ${offset} did not arrive`)), 15_000);
        waiters.set(offset, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    async close() {
      abort.abort();
      await reading;
    },
  };
}

function summary(values: number[]) {
  return { p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: Math.max(...values) };
}

async function main(): Promise<void> {
  const events = parseEvents(process.argv.slice(2));
  console.log('Building the demo (if needed) and starting next start…');
  await ensureBuild();
  const server = await startDemo();
  const browser = await launchBrowser();
  try {
    const api = new DemoApi(server.url);
    const reader = await openReader(server.url, await api.token(TENANT));
    await browser.context.addInitScript(renderProbe);
    const page = await browser.context.newPage();
    await page.goto(server.url);
    await waitForPill(page, TENANT, ['live']);
    // Warm up the route, the page's React tree and the reader before measuring.
    for (let i = 0; i < 5; i++) {
      const event = await api.publish(TENANT, { customer: `Warm-up ${i + 1}` });
      await Promise.all([reader.arrived(event.offset), waitForOffsets(page, TENANT, [event.offset])]);
    }

    const published: Published[] = [];
    for (let i = 0; i < events; i++) {
      const event = await api.publish(TENANT, { customer: `Latency probe ${i + 1}` });
      published.push(event);
      await Promise.all([reader.arrived(event.offset), waitForOffsets(page, TENANT, [event.offset])]);
    }
    const rendered = await page.evaluate(() => window.__rendered);
    await reader.close();

    const render = published.map((event) => {
      const row = rendered.find((r) => r.tenant === TENANT && r.offset === event.offset);
      if (!row) throw new Error(`offset ${event.offset} was not rendered`);
      return row.at - event.ts;
    });
    const receive = published.map((event) => reader.received.get(event.offset)! - event.ts);
    const result = {
      events,
      render: summary(render),
      receive: summary(receive),
      ratio: {
        p50: summary(render).p50 / Math.max(1, summary(receive).p50),
        p99: summary(render).p99 / Math.max(1, summary(receive).p99),
      },
      render_ms: render,
      receive_ms: receive,
    };
    const row = (name: string, s: { p50: number; p99: number; max: number }) =>
      `  ${name.padEnd(34)} ${String(s.p50).padStart(5)} ${String(s.p99).padStart(5)} ${String(s.max).padStart(5)}`;
    console.log(`\nDemo: publish → render, ${events} events one at a time (ms)`);
    console.log(`  ${''.padEnd(34)}   p50   p99   max`);
    console.log(row('render in Chromium (next start)', result.render));
    console.log(row('receive by an SSE reader (baseline)', result.receive));
    console.log(
      `  ratio render / receive: p50 ${result.ratio.p50.toFixed(1)}×, p99 ${result.ratio.p99.toFixed(1)}×`,
    );

    const dir = path.join(here, 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'demo-latency.json');
    writeFileSync(file, JSON.stringify(result, null, 2));
    console.log(`\nResults: ${path.relative(process.cwd(), file)}`);
    await page.close();
  } finally {
    await browser.close();
    await server.stop();
  }
}

await main();
