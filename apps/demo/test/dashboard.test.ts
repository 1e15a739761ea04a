import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DemoApi,
  type DemoServer,
  demoForFile,
  type Published,
  ROOT_DIR,
  startDemo,
  waitForOffsets,
  waitForPill,
} from './harness';

/**
 * End to end, in Debian's Chromium against the production build (`next start`): what a person
 * watching the dashboard would see, measured.
 */

const RESULTS_DIR = join(ROOT_DIR, 'test-results');

const demo = demoForFile();

const token = (tenant: string) => demo.api.token(tenant);
const publish = (tenant: string, order?: Record<string, unknown>) => demo.api.publish(tenant, order);

async function openDashboard(): Promise<Page> {
  const page = await demo.browser.context.newPage();
  await page.goto(demo.server.url);
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

/**
 * Waits until the panel's counters agree with the server: received = published = the channel's
 * head (every order of the tenant, the server-rendered ones included).
 */
async function settledCounters(page: Page, tenant: string, on: DemoApi = demo.api): Promise<number> {
  const head = await on.head(tenant);
  await page.waitForFunction(
    ([t, n]) => {
      const text = (id: string) =>
        document.querySelector(`[data-tenant="${t}"] [data-testid="${id}"]`)?.textContent;
      return text('received') === String(n) && text('published') === String(n);
    },
    [tenant, head] as const,
    { timeout: 15_000, polling: 50 },
  );
  return head;
}

/** The panel lists the tenant's newest orders, each once, newest first, with no hole. */
async function expectListed(page: Page, tenant: string, on: DemoApi = demo.api): Promise<void> {
  const head = await on.head(tenant);
  const offsets = await listedOffsets(page, tenant);
  const count = Math.min(head, 300);
  expect(offsets).toEqual(Array.from({ length: count }, (_, i) => head - i));
}

function expectNoDuplicates(offsets: number[]) {
  expect(new Set(offsets).size).toBe(offsets.length);
}

describe('the live dashboard (next start, Chromium)', () => {
  it('shows each of 50 events published one by one, once each, over an uncompressed stream', async () => {
    // Correctness only; the publish → render latency is measured by `npm run bench:demo`.
    const page = await demo.browser.context.newPage();
    const encodings: string[] = [];
    page.on('response', (response) => {
      if (response.url().includes('/api/live/stream')) {
        encodings.push(response.headers()['content-encoding'] ?? 'identity');
      }
    });
    await page.goto(demo.server.url);
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
    expect(await settledCounters(page, 'acme')).toBe(50);
    await page.close();
  }, 90_000);

  it('falls back to polling when the stream is cut, then returns to Live without losing an event', async () => {
    const page = await openDashboard();
    const published: Published[] = [];
    await publishShown(page, published);

    await page.click('[data-tenant="acme"] [data-testid="cut"]');
    await waitForPill(page, 'acme', ['polling', 'reconnecting'], 5_000);
    // The panel says what happened, in words, not with an error code.
    await page.waitForFunction(
      () => document.querySelector('[data-tenant="acme"] .details')?.textContent?.includes('connection cut'),
      undefined,
      { timeout: 10_000, polling: 50 },
    );
    expect(await page.textContent('[data-tenant="acme"] .panel-foot')).not.toContain('shutting_down');

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

    await settledCounters(page, 'acme');
    const offsets = await listedOffsets(page, 'acme');
    expectNoDuplicates(offsets);
    for (const event of published) expect(offsets).toContain(event.offset);
    await expectListed(page, 'acme');
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
    await settledCounters(page, 'acme');
    await settledCounters(page, 'globex');

    const acmeToken = await token('acme');
    for (const path of [
      'stream?channels=tenant:globex/orders',
      'poll?channels=tenant:globex/orders',
      'stream?channels=tenant:acme/orders,tenant:globex/orders',
    ]) {
      const response = await fetch(`${demo.server.url}/api/live/${path}`, {
        headers: { Authorization: `Bearer ${acmeToken}` },
      });
      expect(response.status, path).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    }
    const anonymous = await fetch(`${demo.server.url}/api/live/poll?channels=tenant:acme/orders`);
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
    await page.goto(demo.server.url);
    await waitForPill(page, 'acme', ['live']);

    await waitForOffsets(
      page,
      'acme',
      published.map((e) => e.offset),
    );
    await settledCounters(page, 'acme');
    const offsets = await listedOffsets(page, 'acme');
    expectNoDuplicates(offsets);
    for (const event of published) expect(offsets).toContain(event.offset);
    await expectListed(page, 'acme');
    await page.close();
  }, 60_000);

  it('runs the server-side generator until it is switched off', async () => {
    const page = await openDashboard();
    const acmeBefore = await listedOffsets(page, 'acme');
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
    expect(await settledCounters(page, 'globex')).toBe(published);
    expectNoDuplicates(await listedOffsets(page, 'globex'));
    // Nothing reached the other tenant.
    expect(await listedOffsets(page, 'acme')).toEqual(acmeBefore);
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
    await settledCounters(page, 'acme');
    await settledCounters(page, 'globex');
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

describe('from the server render to live (next start, Chromium)', () => {
  // A second server whose page render pauses 1 s after reading the cursor and 1 s after loading
  // the orders: orders published meanwhile are both in the render and replayed (first window),
  // or only replayed (second window). A hand-off with a gap or a repeat cannot pass by luck.
  let slow: DemoServer;
  let slowApi: DemoApi;
  beforeAll(async () => {
    slow = await startDemo({ DEMO_SSR_DELAY_MS: '1000' });
    slowApi = new DemoApi(slow.url);
  }, 60_000);
  afterAll(async () => {
    await slow?.stop();
  });

  /** Records, in the page, any moment its Received tile shows more than its Published tile. */
  function watchCounters(page: Page, tenant: string) {
    return page.evaluate((t) => {
      const w = window as unknown as { __overtook: string[] };
      w.__overtook = [];
      const check = () => {
        const text = (id: string) =>
          document.querySelector(`[data-tenant="${t}"] [data-testid="${id}"]`)?.textContent ?? '';
        const received = Number(text('received'));
        const published = Number(text('published'));
        if (Number.isFinite(published) && received > published)
          w.__overtook.push(`${received} > ${published}`);
      };
      check();
      new MutationObserver(check).observe(document.body, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    }, tenant);
  }

  it('opens 20 pages in turn while 20 orders/s are published: each shows every order once, in order', async () => {
    let publishing = true;
    const publisher = (async () => {
      const start = Date.now();
      for (let i = 1; publishing; i++) {
        await slowApi.publish('acme');
        const due = start + i * 50;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
    })();
    const windows: { between: number; after: number }[] = [];
    try {
      for (let n = 0; n < 20; n++) {
        const page = await demo.browser.context.newPage();
        const response = await page.goto(slow.url, { waitUntil: 'commit' });
        const html = (await response!.text()).replace(/\\"/g, '"');
        // What the server rendered: the acme orders (globex gets none here) and the cursor.
        const rendered = [...html.matchAll(/data-offset="(\d+)"/g)].map((m) => Number(m[1]));
        const cursor = /"cursor":"(t1~[^"]+)"/.exec(html)?.[1] ?? '';
        const cursorOffset = Number.parseInt(cursor.split('.').at(-1) ?? '', 36);
        const renderedHead = Math.max(0, ...rendered);
        await page.waitForSelector('[data-tenant="acme"] [data-testid="received"]');
        await watchCounters(page, 'acme');
        await waitForPill(page, 'acme', ['live']);
        const head = await slowApi.head('acme');
        await page.waitForFunction(
          (h) =>
            Array.from(
              document.querySelectorAll<HTMLElement>('[data-tenant="acme"] li[data-testid="order"]'),
            ).some((row) => Number(row.dataset.offset) >= h),
          head,
          { timeout: 15_000, polling: 50 },
        );
        // Every order up to that head, once each, newest first, with no hole: those rendered
        // by the server, those published between the cursor and the render (in both: shown
        // once), and those published after it (delivered from the cursor).
        const offsets = await listedOffsets(page, 'acme');
        const newest = offsets[0]!;
        expect(newest).toBeGreaterThanOrEqual(head);
        expect(offsets).toEqual(Array.from({ length: Math.min(newest, 300) }, (_, i) => newest - i));
        expect(cursorOffset).toBeLessThan(renderedHead);
        const after = await page.$$eval(
          '[data-tenant="acme"] li[data-testid="order"]',
          (rows, r) =>
            rows
              .filter((row) => Number((row as HTMLElement).dataset.offset) > r)
              .map((row) => row.querySelector('.via')?.textContent),
          renderedHead,
        );
        expect(after.length).toBeGreaterThan(0);
        expect(await page.textContent('[data-tenant="acme"] [data-testid="duplicates"]')).toBe('0');
        expect(await page.evaluate(() => (window as unknown as { __overtook: string[] }).__overtook)).toEqual(
          [],
        );
        windows.push({ between: renderedHead - cursorOffset, after: after.length });
        await page.close();
      }
    } finally {
      publishing = false;
      await publisher;
    }
    console.log(
      `server render → live, 20 pages: orders in both the render and the replay ${windows.map((w) => w.between).join(' ')}; delivered after the render ${windows.map((w) => w.after).join(' ')}`,
    );
    // Two tabs opened now show the same counts: every order of the tenant.
    const [one, two] = await Promise.all([demo.browser.context.newPage(), demo.browser.context.newPage()]);
    await Promise.all([one!.goto(slow.url), two!.goto(slow.url)]);
    const head = await settledCounters(one!, 'acme', slowApi);
    expect(await settledCounters(two!, 'acme', slowApi)).toBe(head);
    await expectListed(one!, 'acme', slowApi);
    await expectListed(two!, 'acme', slowApi);
    await Promise.all([one!.close(), two!.close()]);
  }, 240_000);

  it('reads well on a 390 px phone: nothing wider than the screen, names and amounts shown whole', async () => {
    const page = await demo.browser.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    for (const customer of ['Katherine Johnson', 'Margaret Hamilton', 'Edsger Dijkstra']) {
      await slowApi.publish('globex', { customer, amount: 1_234_567 });
    }
    await page.goto(slow.url);
    await waitForPill(page, 'acme', ['live']);
    await waitForPill(page, 'globex', ['live']);
    const layout = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const tooWide: string[] = [];
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('body *'))) {
        const rect = el.getBoundingClientRect();
        if (rect.width === 0 && rect.height === 0) continue;
        if (rect.left < -0.5 || rect.right > width + 0.5) {
          tooWide.push(
            `${el.tagName.toLowerCase()}.${el.className} ${Math.round(rect.left)}–${Math.round(rect.right)}`,
          );
        }
      }
      /** Text cut off: its box scrolls (ellipsis, overflow hidden) or has no width. */
      const clipped = (selector: string) =>
        Array.from(document.querySelectorAll<HTMLElement>(selector))
          .filter((el) => el.scrollWidth > el.clientWidth + 1 || el.clientWidth === 0)
          .map((el) => `${selector}: ${el.textContent}`);
      return {
        width,
        scrollWidth: document.documentElement.scrollWidth,
        tooWide,
        clipped: [
          ...clipped('.panel-title h2'),
          ...clipped('.order-customer'),
          ...clipped('.order-amount'),
          ...clipped('.tile dt'),
          ...clipped('.tile dd'),
        ],
        customers: Array.from(document.querySelectorAll('[data-tenant="globex"] .order-customer')).map(
          (el) => el.textContent,
        ),
        amounts: Array.from(document.querySelectorAll('[data-tenant="globex"] .order-amount')).map(
          (el) => el.textContent,
        ),
      };
    });
    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: join(RESULTS_DIR, 'demo-390.png'), fullPage: true });
    expect(layout.width).toBe(390);
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.width);
    expect(layout.tooWide).toEqual([]);
    expect(layout.clipped).toEqual([]);
    expect(layout.customers).toEqual(expect.arrayContaining(['Katherine Johnson', 'Margaret Hamilton']));
    // To the cent.
    expect(layout.amounts).toContain('$12,345.67');
    expect(await page.textContent('[data-tenant="globex"] [data-testid="revenue"]')).toMatch(/\.\d\d$/);
    await page.close();
  }, 60_000);
});
