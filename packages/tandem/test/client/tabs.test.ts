import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { groupName } from '../../src/client/share/identity';
import { SHARE_KIT } from '../../src/client/share-kit';
import { launchChromium, type TestBrowser } from '../helpers/chromium';
import {
  closedAfterEach,
  deliveryProblems,
  openTabs as open,
  publishTicks,
  type Site,
  startSite,
  tokenFor,
  untilTabs,
} from '../helpers/tabs';

/**
 * Tabs of one browser share one stream: in Chromium, with real Web Locks and BroadcastChannel,
 * against a real hub over HTTP/1.1.
 */

let site: Site;
let browser: TestBrowser;
/** Streams whose URL matches are held back this long before the hub sees them. */
let holdBack: { match: string; ms: number } | null = null;

beforeAll(async () => {
  site = await startSite({}, (url) => {
    if (!holdBack || !url.startsWith('/live/stream') || !url.includes(holdBack.match)) return undefined;
    return new Promise((resolve) => setTimeout(resolve, holdBack!.ms));
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

const tabs = closedAfterEach(() => site);
const openTabs = async (...args: Parameters<typeof open>) => tabs.track(await open(...args));
const publish = (
  channels: readonly string[],
  count: number,
  perSecond: number,
  from = 0,
  expected = new Map<string, number[]>(),
) => publishTicks(site, channels, count, perSecond, expected, from);

describe('tabs of one browser', () => {
  it('6 tabs open one stream between them; events at 20/s reach all 6, each once, in order', async () => {
    const channels = ['six:a', 'six:b'];
    const token = await tokenFor('user-six');
    const before = site.streams().length;
    const network: string[] = [];
    const onRequest = (request: { url(): string }) => {
      if (request.url().includes('/live/stream')) network.push(request.url());
    };
    browser.context.on('request', onRequest);
    const pages = await openTabs(browser.context, site, 6, () => ({ channels, token }));
    const open = await untilTabs(pages, (rec) => rec.status === 'open' && rec.share.members === 6);
    expect(open.filter((rec) => rec.share.role === 'leader')).toHaveLength(1);
    expect(open.filter((rec) => rec.share.role === 'follower')).toHaveLength(5);
    const leader = open.find((rec) => rec.share.role === 'leader')!.share.id;
    expect(open.every((rec) => rec.share.leader === leader)).toBe(true);

    const expected = await publish(channels, 60, 20);
    const records = await untilTabs(pages, (rec) => rec.events.length >= 60);
    for (const rec of records) expect(deliveryProblems(rec, expected)).toEqual([]);
    // One stream, counted by the hub and by the browser.
    expect(site.streams().length - before).toBe(1);
    expect(site.hub.stats().connections).toBe(1);
    expect(network).toHaveLength(1);
    browser.context.off('request', onRequest);
    // Every tab has the same positions, so the same cursor, as one client alone would.
    const cursors = await Promise.all(
      pages.map((page) =>
        page.evaluate(() =>
          (window as unknown as { client: { getCursor(): string | null } }).client.getCursor(),
        ),
      ),
    );
    expect(cursors[0]).not.toBeNull();
    expect(new Set(cursors).size).toBe(1);
    // A follower's pollNow polls its own channels itself, and resolves when done.
    const follower = pages[records.findIndex((rec) => rec.share.role === 'follower')]!;
    const polls = site.requests.filter((r) => r.url.startsWith('/live/poll')).length;
    await follower.evaluate(() =>
      (window as unknown as { client: { pollNow(): Promise<void> } }).client.pollNow(),
    );
    expect(site.requests.filter((r) => r.url.startsWith('/live/poll')).length).toBeGreaterThan(polls);
  }, 60_000);

  it('tabs with different channel sets share one stream; each gets only its own channels', async () => {
    const token = await tokenFor('user-sets');
    const sets = [['sets:a'], ['sets:b'], ['sets:a', 'sets:c']];
    const pages = await openTabs(browser.context, site, 3, (i) => ({ channels: sets[i]!, token }));
    await untilTabs(pages, (rec) => rec.status === 'open' && rec.share.members === 3);
    await vi.waitFor(() => expect(site.hub.stats().connections).toBe(1));
    // The union is what the stream follows, whatever the order the tabs came in.
    const expected = await publish(['sets:a', 'sets:b', 'sets:c'], 30, 50);
    const only = (channels: string[]) => new Map(channels.map((c) => [c, expected.get(c) ?? []]));
    const records = await untilTabs(pages, (rec, i) => rec.events.length >= 10 * sets[i]!.length);
    records.forEach((rec, i) => {
      expect(deliveryProblems(rec, only(sets[i]!))).toEqual([]);
    });

    // The tab with the widest set leaves: the stream follows the smaller union; nothing is lost.
    await pages[2]!.close();
    await untilTabs(pages.slice(0, 2), (rec) => rec.share.members === 2);
    await publish(['sets:a', 'sets:b', 'sets:c'], 30, 50, 30, expected);
    const after = await untilTabs(pages.slice(0, 2), (rec) => rec.events.length >= 20);
    after.forEach((rec, i) => {
      expect(deliveryProblems(rec, only(sets[i]!))).toEqual([]);
    });
    await vi.waitFor(() => expect(site.hub.stats().connections).toBe(1));
  }, 60_000);

  it("two tenants with different tokens never share a stream, nor see each other's channels", async () => {
    const alice = await tokenFor('alice', ['alice/**', 'news']);
    const bob = await tokenFor('bob', ['bob/**', 'news']);
    const tabs = [
      { token: alice, channels: ['alice/feed', 'news'] },
      { token: alice, channels: ['alice/feed'] },
      { token: bob, channels: ['bob/feed', 'news'] },
      { token: bob, channels: ['news'] },
    ];
    const pages = await openTabs(browser.context, site, 4, (i) => tabs[i]!);
    const open = await untilTabs(pages, (rec) => rec.status === 'open' && rec.share.members === 2);
    expect(open[0]!.share.leader).toBe(open[1]!.share.leader);
    expect(open[2]!.share.leader).toBe(open[3]!.share.leader);
    expect(open[0]!.share.leader).not.toBe(open[2]!.share.leader);
    expect(site.hub.stats().connections).toBe(2);

    const expected = await publish(['alice/feed', 'bob/feed', 'news'], 30, 50);
    const only = (channels: string[]) => new Map(channels.map((c) => [c, expected.get(c) ?? []]));
    const records = await untilTabs(pages, (rec, i) => rec.events.length >= 10 * tabs[i]!.channels.length);
    records.forEach((rec, i) => {
      expect(deliveryProblems(rec, only(tabs[i]!.channels))).toEqual([]);
    });
  }, 60_000);

  it('with shareAcrossTabs: false each tab has its own stream, as before', async () => {
    const token = await tokenFor('user-apart');
    const pages = await openTabs(browser.context, site, 3, () => ({
      channels: ['apart:a'],
      token,
      shareAcrossTabs: false,
    }));
    const open = await untilTabs(pages, (rec) => rec.status === 'open');
    expect(open.map((rec) => rec.share.role)).toEqual(['alone', 'alone', 'alone']);
    expect(site.hub.stats().connections).toBe(3);
    const expected = await publish(['apart:a'], 10, 50);
    const records = await untilTabs(pages, (rec) => rec.events.length >= 10);
    for (const rec of records) expect(deliveryProblems(rec, expected)).toEqual([]);
  }, 60_000);

  it("a malformed or foreign message on the group's channel is ignored; no tab breaks", async () => {
    const token = await tokenFor('user-noise');
    const pages = await openTabs(browser.context, site, 3, () => ({ channels: ['noise:a'], token }));
    await untilTabs(pages, (rec) => rec.status === 'open' && rec.share.members === 3);
    const name = groupName(`${site.url}/live`, undefined, token, SHARE_KIT)!;
    const errors: string[] = [];
    for (const page of pages) page.on('pageerror', (error) => errors.push(error.message));
    // A hostile neighbour: garbage, other versions, forged events of channels nobody follows,
    // forged leaders and beats.
    await pages[0]!.evaluate((name) => {
      const channel = new BroadcastChannel(name);
      const junk: unknown[] = [
        null,
        'hello',
        42,
        { v: 2, t: 'event' },
        { v: 1, t: 'event', from: 'x', term: 1, event: { channel: 'noise:a', offset: 'NaN' } },
        {
          v: 1,
          t: 'event',
          from: 'x',
          term: 1,
          event: {
            channel: 'secret',
            type: 'tick',
            epoch: '1',
            offset: 1,
            ts: 0,
            data: { i: -1 },
            source: 'stream',
          },
        },
        { v: 1, t: 'beat', from: 'x', term: 1, state: { status: 'exploded' }, positions: {}, members: [] },
        { v: 1, t: 'join', from: 'x', channels: 'not a list', positions: {}, types: [], hidden: false },
        { v: 1, t: 'resync', from: 'x', term: 1, channels: [1, 2], reason: 'epoch' },
        { v: 1, t: 'alone', from: 'x' },
      ];
      for (const message of junk) channel.postMessage(message);
      channel.close();
    }, name);
    const expected = await publish(['noise:a'], 20, 50);
    const records = await untilTabs(pages, (rec) => rec.events.length >= 20);
    for (const rec of records) expect(deliveryProblems(rec, expected)).toEqual([]);
    expect(records.map((rec) => rec.status)).toEqual(['open', 'open', 'open']);
    expect(errors).toEqual([]);
  }, 60_000);

  it('10 tabs on HTTP/1.1 to one host are all live (alone, the seventh would wait for a connection)', async () => {
    const token = await tokenFor('user-ten');
    const pages = await openTabs(browser.context, site, 10, () => ({ channels: ['ten:a'], token }));
    await untilTabs(pages, (rec) => rec.status === 'open' && rec.share.members === 10);
    expect(site.hub.stats().connections).toBe(1);
    const expected = await publish(['ten:a'], 20, 50);
    const records = await untilTabs(pages, (rec) => rec.events.length >= 20);
    for (const rec of records) expect(deliveryProblems(rec, expected)).toEqual([]);
  }, 90_000);

  it('a tab whose channel the group does not follow yet is not open until the stream that follows it is', async () => {
    const token = await tokenFor('user-late');
    const [first] = await openTabs(browser.context, site, 1, () => ({ channels: ['late:a'], token }));
    await untilTabs([first!], (rec) => rec.status === 'open');
    // The stream for the new union reaches the hub 1.5 s late; until then the group is open,
    // but not for the newcomer's channel.
    holdBack = { match: encodeURIComponent('late:b'), ms: 1_500 };
    try {
      const [second] = await openTabs(browser.context, site, 1, () => ({
        channels: ['late:a', 'late:b'],
        token,
      }));
      const [rec] = await untilTabs([second!], (r) => r.status === 'open' && r.share.members === 2);
      const request = site.streams().find((r) => r.url.includes(encodeURIComponent('late:b')));
      expect(request).toBeDefined();
      expect(rec!.openAt!).toBeGreaterThanOrEqual(request!.at);
      // Open means followed: what is published now reaches it.
      const expected = await publish(['late:a', 'late:b'], 10, 50);
      const [after] = await untilTabs([second!], (r) => r.events.length >= 10);
      expect(deliveryProblems(after!, expected)).toEqual([]);
    } finally {
      holdBack = null;
    }
  }, 60_000);

  it('a tab asking for a forbidden channel stops with forbidden; the others keep their stream', async () => {
    // One identity, one grant: `allowed:*`. The second tab also asks for a channel outside it.
    const token = await tokenFor('user-refused', ['allowed:*']);
    const [good, bad] = await openTabs(browser.context, site, 1, () => ({
      channels: ['allowed:a'],
      token,
    })).then(async (first) => [
      ...first,
      ...(await openTabs(browser.context, site, 1, () => ({ channels: ['allowed:a', 'secret:x'], token }))),
    ]);
    const [refused] = await untilTabs([bad!], (rec) => rec.status === 'closed');
    expect(refused!.error).toBe('forbidden');
    // Back on its own channels once the refused tab left, not after the 10 s retry of a refusal.
    const [alive] = await untilTabs(
      [good!],
      (rec) => rec.status === 'open' && rec.share.members === 1,
      8_000,
    );
    expect(alive!.error).toBeNull();
    const expected = await publish(['allowed:a'], 10, 50);
    const [after] = await untilTabs([good!], (rec) => rec.events.length >= 10);
    expect(deliveryProblems(after!, expected)).toEqual([]);
    await vi.waitFor(() => expect(site.hub.stats().connections).toBe(1));
  }, 60_000);

  it('a tab whose channels would take the group past 64 runs its own stream', async () => {
    const token = await tokenFor('user-many');
    const set = (prefix: string) => Array.from({ length: 40 }, (_, i) => `${prefix}:${i}`);
    const pages = await openTabs(browser.context, site, 2, (i) => ({
      channels: set(i === 0 ? 'many-a' : 'many-b'),
      token,
    }));
    const records = await untilTabs(pages, (rec) => rec.status === 'open');
    expect(records.map((rec) => rec.share.role)).toEqual(['leader', 'alone']);
    expect(site.hub.stats().connections).toBe(2);
    const expected = await publish(['many-a:0', 'many-b:0'], 10, 50);
    const only = (channel: string) => new Map([[channel, expected.get(channel)!]]);
    const after = await untilTabs(pages, (rec) => rec.events.length >= 5);
    expect(deliveryProblems(after[0]!, only('many-a:0'))).toEqual([]);
    expect(deliveryProblems(after[1]!, only('many-b:0'))).toEqual([]);
  }, 60_000);
});
