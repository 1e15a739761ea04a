import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { demoForFile, type Published, ROOT_DIR, waitForOffsets, waitForPill } from './harness';

/**
 * Several tabs of the demo in one browser (pages of one context), against the production build:
 * they share one stream per tenant, and keep every order when the tab that holds it goes.
 */

const demo = demoForFile();

interface Share {
  role: string;
  members: number;
  leader: string;
}

function share(page: Page, tenant: string): Promise<Share> {
  return page.$eval(`[data-tenant="${tenant}"] [data-testid="share"]`, (node) => {
    const el = node as HTMLElement;
    return {
      role: el.dataset.role ?? '',
      members: Number(el.dataset.members),
      leader: el.dataset.leader ?? '',
    };
  });
}

/** Waits until every tab shows `members` tabs sharing the tenant's stream, and returns what they show. */
async function sharing(pages: readonly Page[], tenant: string, members: number): Promise<Share[]> {
  for (const page of pages) {
    await page.waitForFunction(
      ([t, n]) =>
        document.querySelector(`[data-tenant="${t}"] [data-testid="share"]`)?.getAttribute('data-members') ===
        String(n),
      [tenant, members] as const,
      { timeout: 15_000, polling: 50 },
    );
  }
  return Promise.all(pages.map((page) => share(page, tenant)));
}

/** The acme order offsets a tab shows, newest first (the order the app received them, reversed). */
function listed(page: Page): Promise<number[]> {
  return page.$$eval('[data-tenant="acme"] li[data-testid="order"]', (rows) =>
    rows.map((row) => Number((row as HTMLElement).dataset.offset)),
  );
}

/** Publishes `count` acme orders at `perSecond` (each request paced from the previous one's start). */
async function publishAt(count: number, perSecond: number, into: Published[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    const started = Date.now();
    into.push(await demo.api.publish('acme', { customer: `Tab test ${into.length + 1}` }));
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 / perSecond - (Date.now() - started))));
  }
}

async function streamsOnServer(): Promise<number> {
  const response = await fetch(`${demo.server.url}/api/demo/stats`, {
    headers: { Authorization: `Bearer ${await demo.api.token('acme')}` },
  });
  return ((await response.json()) as { streams: number }).streams;
}

async function expectEveryOrderOnce(pages: readonly Page[], published: Published[]): Promise<void> {
  const offsets = published.map((e) => e.offset);
  for (const page of pages) {
    await waitForOffsets(page, 'acme', offsets);
    const shown = await listed(page);
    // Newest first, each once: the app received them in order, without duplicates.
    expect(shown).toEqual([...shown].sort((a, b) => b - a));
    expect(new Set(shown).size).toBe(shown.length);
    expect(shown.filter((offset) => offsets.includes(offset)).length).toBe(offsets.length);
    expect(await page.textContent('[data-tenant="acme"] [data-testid="duplicates"]')).toBe('0');
  }
}

describe('the demo in several tabs (next start, Chromium)', () => {
  it('6 tabs open one stream per tenant between them; orders at 20/s reach all 6, each once, in order', async () => {
    const streamRequests: string[] = [];
    const onRequest = (request: { url(): string }) => {
      if (request.url().includes('/api/live/stream')) streamRequests.push(request.url());
    };
    demo.browser.context.on('request', onRequest);
    const pages: Page[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        const page = await demo.browser.context.newPage();
        await page.goto(demo.server.url);
        pages.push(page);
      }
      for (const page of pages) await waitForPill(page, 'acme', ['live']);
      const acme = await sharing(pages, 'acme', 6);
      await sharing(pages, 'globex', 6);
      expect(acme.filter((s) => s.role === 'leader')).toHaveLength(1);
      expect(new Set(acme.map((s) => s.leader)).size).toBe(1);
      // One stream per tenant: counted by the hub, and by the browser's network log.
      expect(await streamsOnServer()).toBe(2);
      expect(streamRequests.filter((url) => url.includes('acme'))).toHaveLength(1);
      expect(streamRequests.filter((url) => url.includes('globex'))).toHaveLength(1);

      const published: Published[] = [];
      await publishAt(60, 20, published);
      await expectEveryOrderOnce(pages, published);
      expect(await streamsOnServer()).toBe(2);
      const follower = pages[acme.findIndex((s) => s.role === 'follower')]!;
      mkdirSync(join(ROOT_DIR, 'test-results'), { recursive: true });
      await follower.screenshot({
        path: join(ROOT_DIR, 'test-results/demo-tabs-follower.png'),
        fullPage: true,
      });
    } finally {
      demo.browser.context.off('request', onRequest);
      for (const page of pages) await page.close();
    }
  }, 120_000);

  it('the tab that holds the stream closes while orders flow: another takes over, no tab misses one', async () => {
    const pages: Page[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const page = await demo.browser.context.newPage();
        await page.goto(demo.server.url);
        pages.push(page);
      }
      for (const page of pages) await waitForPill(page, 'acme', ['live']);
      const before = await sharing(pages, 'acme', 3);
      const leader = before.findIndex((s) => s.role === 'leader');
      const published: Published[] = [];
      const publishing = publishAt(40, 20, published);
      while (published.length < 10) await new Promise((r) => setTimeout(r, 20));
      await pages[leader]!.close();
      const rest = pages.filter((_, i) => i !== leader);
      const after = await sharing(rest, 'acme', 2);
      expect(after.filter((s) => s.role === 'leader')).toHaveLength(1);
      await publishing;
      await expectEveryOrderOnce(rest, published);
      for (const page of rest) await waitForPill(page, 'acme', ['live']);
    } finally {
      for (const page of pages) if (!page.isClosed()) await page.close();
    }
  }, 120_000);
});
