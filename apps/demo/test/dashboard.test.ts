import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DemoApi,
  type DemoServer,
  ensureBuild,
  launchBrowser,
  type Published,
  ROOT_DIR,
  renderProbe,
  startDemo,
  type TestBrowser,
  waitForOffsets,
  waitForPill,
} from './harness';

/**
 * End to end, in Debian's Chromium against the production build (`next start`): what a person
 * watching the dashboard would see, measured.
 */

const RESULTS_DIR = join(ROOT_DIR, 'test-results');

let server: DemoServer;
let browser: TestBrowser;
let api: DemoApi;

beforeAll(async () => {
  await ensureBuild();
  server = await startDemo();
  api = new DemoApi(server.url);
  browser = await launchBrowser();
  await browser.context.addInitScript(renderProbe);
}, 320_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const token = (tenant: string) => api.token(tenant);
const publish = (tenant: string, order?: Record<string, unknown>) => api.publish(tenant, order);

async function openDashboard(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(server.url);
  await waitForPill(page, 'acme', ['live']);
  await waitForPill(page, 'globex', ['live']);
  return page;
}

/** Publishes three acme orders into `published`, then waits until the page shows all of `published`. */
async function publishShown(page: Page, published: Published[]): Promise<void> {
  for (let i = 0; i < 3; i++) published.push(await publish('acme'));
  await waitForOffsets(
    page,
    'acme',
    published.map((e) => e.offset),
  );
}

/** The offsets of the order rows in a tenant's panel right now. */
function listedOffsets(page: Page, tenant: string): Promise<number[]> {
  return page.$$eval(`[data-tenant="${tenant}"] li[data-testid="order"]`, (rows) =>
    rows.map((row) => Number((row as HTMLElement).dataset.offset)),
  );
}

function listedChannels(page: Page, tenant: string): Promise<string[]> {
  return page.$$eval(`[data-tenant="${tenant}"] li[data-testid="order"]`, (rows) =>
    rows.map((row) => (row as HTMLElement).dataset.channel ?? ''),
  );
}

/** Waits until the panel's counters agree and returns them. */
async function settledCounters(page: Page, tenant: string, expected: number): Promise<void> {
  await page.waitForFunction(
    ([t, n]) => {
      const text = (id: string) =>
        document.querySelector(`[data-tenant="${t}"] [data-testid="${id}"]`)?.textContent;
      return text('received') === String(n) && text('published') === String(n);
    },
    [tenant, expected] as const,
    { timeout: 15_000, polling: 50 },
  );
}

function expectNoDuplicates(offsets: number[]) {
  expect(new Set(offsets).size).toBe(offsets.length);
}

describe('the live dashboard (next start, Chromium)', () => {
  it('shows each of 50 events published one by one, once each, over an uncompressed stream', async () => {
    // Correctness only; the publish → render latency is measured by `npm run bench:demo`.
    const page = await browser.context.newPage();
    const encodings: string[] = [];
    page.on('response', (response) => {
      if (response.url().includes('/api/live/stream')) {
        encodings.push(response.headers()['content-encoding'] ?? 'identity');
      }
    });
    await page.goto(server.url);
    await waitForPill(page, 'acme', ['live']);

    const published: Published[] = [];
    for (let i = 0; i < 50; i++) {
      const event = await publish('acme', { customer: `Probe ${i + 1}` });
      published.push(event);
      await waitForOffsets(page, 'acme', [event.offset]);
    }

    const rendered = await page.evaluate(() => window.__rendered);
    for (const event of published) {
      const row = rendered.find((r) => r.tenant === 'acme' && r.offset === event.offset);
      expect(row, `offset ${event.offset} rendered`).toMatchObject({ channel: event.channel });
    }
    // Nothing between the hub and the browser compressed (and so buffered) the stream.
    expect(encodings.length).toBeGreaterThan(0);
    expect(encodings.every((encoding) => encoding === 'identity')).toBe(true);
    const offsets = await listedOffsets(page, 'acme');
    expectNoDuplicates(offsets);
    for (const event of published) expect(offsets).toContain(event.offset);
    await settledCounters(page, 'acme', 50);
    await page.close();
  }, 90_000);

  it('falls back to polling when the stream is cut, then returns to Live without losing an event', async () => {
    const page = await openDashboard();
    const published: Published[] = [];
    await publishShown(page, published);

    await page.click('[data-tenant="acme"] [data-testid="cut"]');
    await waitForPill(page, 'acme', ['polling', 'reconnecting'], 5_000);

    // While the stream is refused, orders keep arriving through the poller.
    const during: Published[] = [];
    for (let i = 0; i < 5; i++) during.push(await publish('acme', { customer: `During outage ${i + 1}` }));
    published.push(...during);
    await waitForOffsets(
      page,
      'acme',
      during.map((e) => e.offset),
    );
    const rendered = await page.evaluate(() => window.__rendered);
    const whileDown = rendered.filter(
      (r) => r.tenant === 'acme' && during.some((e) => e.offset === r.offset) && r.pill !== 'live',
    );
    expect(whileDown.some((r) => r.source === 'poll')).toBe(true);

    await waitForPill(page, 'acme', ['live'], 20_000);
    await publishShown(page, published);

    await settledCounters(page, 'acme', published.length);
    const offsets = await listedOffsets(page, 'acme');
    expectNoDuplicates(offsets);
    expect(offsets.sort((a, b) => a - b)).toEqual(published.map((e) => e.offset).sort((a, b) => a - b));
    expect(await page.textContent('[data-tenant="acme"] [data-testid="duplicates"]')).toBe('0');
    // The other tenant was never cut.
    expect(rendered.filter((r) => r.tenant === 'globex' && r.pill !== 'live')).toEqual([]);
    await page.close();
  }, 60_000);

  it("keeps tenants apart: A never shows B's events, and A's token cannot read B's channel", async () => {
    const page = await openDashboard();
    const acme: Published[] = [];
    const globex: Published[] = [];
    for (let i = 0; i < 4; i++) {
      acme.push(await publish('acme'));
      globex.push(await publish('globex'));
    }
    await waitForOffsets(
      page,
      'acme',
      acme.map((e) => e.offset),
    );
    await waitForOffsets(
      page,
      'globex',
      globex.map((e) => e.offset),
    );
    expect(new Set(await listedChannels(page, 'acme'))).toEqual(new Set(['tenant:acme/orders']));
    expect(new Set(await listedChannels(page, 'globex'))).toEqual(new Set(['tenant:globex/orders']));
    await settledCounters(page, 'acme', 4);
    await settledCounters(page, 'globex', 4);

    const acmeToken = await token('acme');
    for (const path of [
      'stream?channels=tenant:globex/orders',
      'poll?channels=tenant:globex/orders',
      'stream?channels=tenant:acme/orders,tenant:globex/orders',
    ]) {
      const response = await fetch(`${server.url}/api/live/${path}`, {
        headers: { Authorization: `Bearer ${acmeToken}` },
      });
      expect(response.status, path).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    }
    const anonymous = await fetch(`${server.url}/api/live/poll?channels=tenant:acme/orders`);
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
    await page.close();
  }, 60_000);

  it('loses no event across a reload or time away (the persisted cursor resumes)', async () => {
    const page = await openDashboard();
    const published: Published[] = [];
    await publishShown(page, published);

    // Published while the page reloads.
    const reloading = page.reload();
    for (let i = 0; i < 3; i++) published.push(await publish('acme', { customer: `During reload ${i + 1}` }));
    await reloading;
    await waitForPill(page, 'acme', ['live']);

    // Published while the tab shows another page.
    await page.goto('about:blank');
    for (let i = 0; i < 3; i++) published.push(await publish('acme', { customer: `While away ${i + 1}` }));
    await page.goto(server.url);
    await waitForPill(page, 'acme', ['live']);

    await waitForOffsets(
      page,
      'acme',
      published.map((e) => e.offset),
    );
    await settledCounters(page, 'acme', published.length);
    const offsets = await listedOffsets(page, 'acme');
    expectNoDuplicates(offsets);
    expect(offsets.sort((a, b) => a - b)).toEqual(published.map((e) => e.offset).sort((a, b) => a - b));
    await page.close();
  }, 60_000);

  it('runs the server-side generator until it is switched off', async () => {
    const page = await openDashboard();
    const generator = '[data-tenant="globex"] [data-testid="generator"]';
    await page.waitForSelector(`${generator}:not([disabled])`);
    await page.click(generator);
    await page.waitForSelector(`${generator}[aria-checked="true"]`, { timeout: 5_000 });
    // One order every 0.6–2 s.
    await page.waitForFunction(
      () => document.querySelectorAll('[data-tenant="globex"] li[data-testid="order"]').length >= 3,
      undefined,
      { timeout: 15_000, polling: 50 },
    );
    await page.click(generator);
    await page.waitForSelector(`${generator}[aria-checked="false"]`, { timeout: 5_000 });
    // Switched off: whatever was published has arrived, and nothing more comes.
    const published = Number(
      await page
        .waitForFunction(
          () => {
            const text = (id: string) =>
              document.querySelector(`[data-tenant="globex"] [data-testid="${id}"]`)?.textContent;
            return text('received') === text('published') && text('received');
          },
          undefined,
          { timeout: 15_000, polling: 50 },
        )
        .then((handle) => handle.jsonValue()),
    );
    expect(published).toBeGreaterThanOrEqual(3);
    // The thing under test is an absence: no order for longer than the generator's longest
    // interval (2 s). Only waiting that long can show it; no condition marks "never".
    await page.waitForTimeout(2_500);
    await settledCounters(page, 'globex', published);
    expectNoDuplicates(await listedOffsets(page, 'globex'));
    expect(await page.$$('[data-tenant="acme"] li[data-testid="order"]')).toHaveLength(0);
    await page.close();
  }, 60_000);

  it('looks like something to show a customer (screenshots in test-results/)', async () => {
    const page = await openDashboard();
    const customers = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Katherine Johnson', 'Barbara Liskov'];
    const acme: Published[] = [];
    const globex: Published[] = [];
    for (const customer of customers) {
      acme.push(await publish('acme', { customer }));
      globex.push(await publish('globex', { customer }));
    }
    await waitForOffsets(
      page,
      'acme',
      acme.map((e) => e.offset),
    );
    await waitForOffsets(
      page,
      'globex',
      globex.map((e) => e.offset),
    );
    await settledCounters(page, 'acme', customers.length);
    await settledCounters(page, 'globex', customers.length);
    mkdirSync(RESULTS_DIR, { recursive: true });
    // Let the arrival highlight finish.
    await page.waitForFunction(
      () =>
        document
          .getAnimations()
          .every(
            (a) => !(a instanceof CSSAnimation && a.animationName === 'arrive') || a.playState === 'finished',
          ),
      undefined,
      { timeout: 15_000, polling: 50 },
    );
    await page.screenshot({ path: join(RESULTS_DIR, 'demo-dashboard.png'), fullPage: true });

    await page.click('[data-tenant="globex"] [data-testid="cut"]');
    await waitForPill(page, 'globex', ['polling', 'reconnecting'], 5_000);
    await page.screenshot({ path: join(RESULTS_DIR, 'demo-dashboard-cut.png'), fullPage: true });
    await waitForPill(page, 'globex', ['live'], 20_000);
    await page.close();
  }, 60_000);
});
