import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../packages/tandem/test/helpers/free-port';
import {
  DemoApi,
  type DemoServer,
  ensureBuild,
  launchBrowser,
  type Published,
  renderProbe,
  startDemo,
  type TestBrowser,
  waitForOffsets,
  waitForPill,
} from './harness';

/**
 * A restart with tabs open, as a deploy does it: the demo under `next start` with two tabs in
 * Chromium, SIGTERM, and a new `next start` on the same port. The old process must exit within
 * its drain (the hub's `closeTimeoutMs`, 5 s, and at most the 10 s the docs promise), and both
 * tabs must reach the new one. The memory broker starts a new epoch there, so the tabs get
 * `resync` and reload the tenant's orders: an order published on the new process before they
 * reconnected shows in both, as does one published after.
 */

/** This test rebuilds the demo (its sources changed) into a folder no other test serves. */
const DIST_DIR = '.next-restart';
/** Both processes sign and check the tabs' tokens with one secret, as a real deploy does. */
const ENV = { TANDEM_DEMO_SECRET: 'restart-test-secret-restart-test-secret' };
/** The most the old process may take to exit after SIGTERM. */
const DRAIN_MS = 10_000;

let port: number;
let servers: DemoServer[] = [];
let browser: TestBrowser;

beforeAll(async () => {
  await ensureBuild(DIST_DIR);
  port = await freePort();
  servers.push(await startDemo(ENV, { port, distDir: DIST_DIR }));
  browser = await launchBrowser();
  await browser.context.addInitScript(renderProbe);
}, 320_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((server) => server.stop()));
  servers = [];
});

/** Waits until the page rendered the acme order `published` (its offset and publish time). */
function waitForOrder(page: Page, published: Published, timeout = 30_000) {
  return page.waitForFunction(
    ([offset, ts]) =>
      window.__rendered.some((r) => r.tenant === 'acme' && r.offset === offset && r.ts === ts),
    [published.offset, published.ts] as const,
    { timeout, polling: 50 },
  );
}

describe('the demo restarted under next start with two tabs open', () => {
  it('exits within the drain, and both tabs reach the new process with every order', async () => {
    const [old] = servers;
    const pages = [await browser.context.newPage(), await browser.context.newPage()];
    for (const page of pages) {
      await page.goto(old!.url);
      await waitForPill(page, 'acme', ['live'], 30_000);
    }
    const before = await new DemoApi(old!.url).publish('acme');
    for (const page of pages) await waitForOffsets(page, 'acme', [before.offset]);

    const signalled = performance.now();
    process.kill(old!.pid, 'SIGTERM');
    const code = await old!.exited;
    const exitMs = performance.now() - signalled;
    console.log(`restart: the old process exited ${Math.round(exitMs)} ms after SIGTERM, with ${code}`);
    expect(exitMs).toBeLessThan(DRAIN_MS);
    // Next.js's own exit after SIGTERM: the signal handled, not a crash.
    expect(code).toBe(143);

    // The tabs may not reach the new process until an order was published there: only
    // reloading after `resync` can then show it.
    await browser.context.route('**/api/live/**', (route) => route.abort());
    const next = await startDemo(ENV, { port, distDir: DIST_DIR });
    servers.push(next);
    const api = new DemoApi(next.url);
    const early = await api.publish('acme');
    // A new epoch: the memory broker's logs did not survive the restart.
    expect(early.offset).toBe(1);
    await browser.context.unroute('**/api/live/**');

    for (const page of pages) {
      await waitForOrder(page, early);
      await waitForPill(page, 'acme', ['live'], 30_000);
    }
    const late = await api.publish('acme');
    for (const page of pages) {
      await waitForOrder(page, late);
      // The resync is counted, and the list holds the new process's orders, none twice.
      await page.waitForFunction(
        () => document.querySelector('[data-tenant="acme"] .feed-head')?.textContent?.includes('resyncs 1'),
        undefined,
        { timeout: 10_000 },
      );
      expect(await page.textContent('[data-tenant="acme"] [data-testid="duplicates"]')).toBe('0');
      expect(await page.textContent('[data-tenant="acme"] [data-testid="received"]')).toBe('2');
    }
  }, 180_000);
});
