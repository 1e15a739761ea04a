import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { LivePresence } from '../../src/client';
import { launchChromium, type TestBrowser } from '../helpers/chromium';
import {
  closedAfterEach,
  openTabs as open,
  type Site,
  startSite,
  tokenFor,
  untilTabs,
} from '../helpers/tabs';

/** Presence as Chromium's tabs make it: tabs sharing one stream are one connection. */

let site: Site;
let browser: TestBrowser;

beforeAll(async () => {
  site = await startSite({ presence: { graceMs: 300, intervalMs: 50 } });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

const tabs = closedAfterEach(() => site);
const openTabs = async (...args: Parameters<typeof open>) => tabs.track(await open(...args));

it('4 tabs of one browser are one connection of one user; a tab with its own stream sees the view', async () => {
  const channels = ['room:tabs'];
  const token = await tokenFor('ada');
  const four = await openTabs(browser.context, site, 4, () => ({ channels, token }));
  await untilTabs(four, (rec) => rec.status === 'open' && rec.share.members === 4);
  await vi.waitFor(async () =>
    expect(await site.hub.presence('room:tabs')).toEqual({
      users: 1,
      connections: 1,
      members: [{ subject: 'ada', connections: 1 }],
    }),
  );
  // Another user's tab, on a stream of its own, reads the view in the page.
  const grace = await tokenFor('grace');
  const [grace1] = await openTabs(browser.context, site, 1, () => ({
    channels,
    token: grace,
    shareAcrossTabs: false,
  }));
  const view = () =>
    grace1!.evaluate(() =>
      (window as unknown as { client: { presence(channel: string): LivePresence } }).client.presence(
        'room:tabs',
      ),
    );
  await vi.waitFor(async () =>
    expect(await view()).toMatchObject({ synced: true, users: 2, connections: 2 }),
  );
  // The four tabs go: one leave, after the grace.
  for (const page of four) await page.close();
  await vi.waitFor(async () =>
    expect(await view()).toEqual({
      synced: true,
      users: 1,
      connections: 1,
      members: [{ subject: 'grace', connections: 1 }],
    }),
  );
});
