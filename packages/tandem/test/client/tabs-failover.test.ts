import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { launchChromium, type TestBrowser } from '../helpers/chromium';
import { type LeaderLoss, loseLeader } from '../helpers/leader-loss';
import {
  closedAfterEach,
  deliveryProblems,
  openTabs,
  publishTicks,
  type Site,
  startSite,
  tokenFor,
  untilTabs,
} from '../helpers/tabs';

/**
 * The leader tab goes away while events flow: another tab takes the stream over, and every tab
 * left has every event once, in order, with no resync. In Chromium, against a real hub.
 */

let site: Site;
let browser: TestBrowser;
const tabs = closedAfterEach(() => site);

beforeAll(async () => {
  site = await startSite();
  browser = await launchChromium({ backForwardCache: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

const publish = (
  channels: readonly string[],
  count: number,
  perSecond: number,
  expected: Map<string, number[]>,
) => publishTicks(site, channels, count, perSecond, expected);

const published = (expected: Map<string, number[]>) =>
  [...expected.values()].reduce((n, l) => n + l.length, 0);

describe('failover', () => {
  it.each([
    ['closes', 'close', 5_000],
    ['crashes (renderer killed)', 'crash', 5_000],
    ['navigates away', 'navigate', 5_000],
    // Still holding its lock: the others take it once its heartbeat has been silent for the
    // watchdog's window (6 s) and a grace.
    ['hangs (a long task; it keeps its lock)', 'hang', 20_000],
  ] as Array<[string, LeaderLoss, number]>)(
    'the leader tab %s while events flow at 20/s: another tab opens the stream, every tab has every event once, in order, no resync',
    async (_label, how, boundMs) => {
      const channels = [`failover-${how}:a`, `failover-${how}:b`];
      const token = await tokenFor(`user-failover-${how}`);
      const pages = await openTabs(browser.context, site, 4, () => ({ channels, token }));
      tabs.track(pages);
      const open = await untilTabs(pages, (rec) => rec.status === 'open' && rec.share.members === 4);
      const leader = open.findIndex((rec) => rec.share.role === 'leader');
      const others = pages.filter((_, i) => i !== leader);

      const expected = new Map<string, number[]>();
      const total = how === 'hang' ? 300 : 80;
      const publishing = publish(channels, total, 20, expected);
      await vi.waitFor(() => expect(published(expected)).toBeGreaterThanOrEqual(20), { timeout: 10_000 });
      const streams = site.streams().length;
      const lostAt = Date.now();
      const undo = await loseLeader(pages[leader]!, how);

      // Another tab takes over and opens the stream.
      await vi.waitFor(() => expect(site.streams().length).toBeGreaterThan(streams), {
        timeout: boundMs,
        interval: 10,
      });
      const tookMs = site.streams()[streams]!.at - lostAt;
      const after = await untilTabs(
        others,
        (rec) => rec.share.role !== 'alone' && rec.status === 'open',
        boundMs,
      );
      expect(after.filter((rec) => rec.share.role === 'leader')).toHaveLength(1);
      console.log(`failover (${how}): a new stream ${tookMs} ms after the leader was lost`);

      if (how === 'hang') {
        // The old leader runs again: it finds its lock taken and follows the new one; what it
        // missed while hung it polls for itself.
        await undo();
        const all = await untilTabs(
          pages,
          (rec) => rec.share.role !== 'alone' && rec.share.members === 4,
          15_000,
        );
        expect(all.filter((rec) => rec.share.role === 'leader')).toHaveLength(1);
      }
      await publishing;
      const survivors = how === 'hang' ? pages : others;
      const records = await untilTabs(survivors, (rec) => rec.events.length >= total, 15_000);
      for (const rec of records) expect(deliveryProblems(rec, expected)).toEqual([]);
      await vi.waitFor(() => expect(site.hub.stats().connections).toBe(1), { timeout: 10_000 });
    },
    90_000,
  );

  it('a leader put into the back/forward cache hands over at once, and back, follows; no tab misses an event', async () => {
    const channels = ['bfcache:a', 'bfcache:b'];
    const token = await tokenFor('user-bfcache');
    const pages = await openTabs(browser.context, site, 3, () => ({ channels, token }));
    tabs.track(pages);
    const open = await untilTabs(pages, (rec) => rec.status === 'open' && rec.share.members === 3);
    const leader = pages[open.findIndex((rec) => rec.share.role === 'leader')]!;
    const others = pages.filter((page) => page !== leader);
    await leader.evaluate(() => {
      addEventListener('pageshow', (event) => {
        (window as unknown as { restored: boolean }).restored = event.persisted;
      });
    });

    const expected = new Map<string, number[]>();
    const publishing = publish(channels, 100, 20, expected);
    await vi.waitFor(() => expect(published(expected)).toBeGreaterThanOrEqual(20), { timeout: 10_000 });
    const streams = site.streams().length;
    await leader.goto(`${site.url}/?elsewhere`);
    // The page left its group on pagehide: another tab leads without waiting for silence.
    await untilTabs(others, (rec) => rec.status === 'open' && rec.share.members === 2, 5_000);
    expect(site.streams().length).toBeGreaterThan(streams);
    // A page restored from the cache fires no `load`: wait for the commit only.
    await leader.goBack({ waitUntil: 'commit' });
    await expect
      .poll(() => leader.evaluate(() => (window as unknown as { restored?: boolean }).restored))
      .toBe(true);
    const all = await untilTabs(pages, (rec) => rec.status === 'open' && rec.share.members === 3);
    expect(all.filter((rec) => rec.share.role === 'leader')).toHaveLength(1);
    await publishing;
    const records = await untilTabs(pages, (rec) => rec.events.length >= 100, 15_000);
    for (const rec of records) expect(deliveryProblems(rec, expected)).toEqual([]);
  }, 90_000);
});
