/**
 * `npm run bench:tabs [-- --trials 20]`: how long the tabs of a browser are without a stream
 * when the tab that holds their shared stream goes. Each trial opens 4 tabs of one page in
 * Chromium (one browser context, real Web Locks and BroadcastChannel) against a hub on
 * loopback, publishes 20 events/s on two channels, loses the leader tab one way — closed,
 * crashed (renderer killed by CDP `Page.crash`), navigated away, or hung (a long task: it keeps
 * its lock, so the others take over only after its heartbeat has been silent for the
 * watchdog's window, 6 s) — and measures:
 *
 * - takeover: from the loss to the hub receiving the new leader's stream request;
 * - open: from the loss to that stream being open in the new leader (its first hello).
 *
 * Every trial also checks what the tests check: each remaining tab got every event once, in
 * order, with no resync. Results go to `bench/results/tabs-failover.json`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantile } from '../apps/demo/test/harness';
import { launchChromium } from '../packages/tandem/test/helpers/chromium';
import { type LeaderLoss, loseLeader } from '../packages/tandem/test/helpers/leader-loss';
import {
  deliveryProblems,
  openTabs,
  startSite,
  tokenFor,
  untilTabs,
} from '../packages/tandem/test/helpers/tabs';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseTrials(argv: readonly string[]): number {
  const at = argv.findIndex((a) => a === '--trials' || a.startsWith('--trials='));
  if (at < 0) return 20;
  const raw = argv[at]!.includes('=') ? argv[at]!.split('=')[1] : argv[at + 1];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 500)
    throw new Error('--trials needs a whole number from 1 to 500');
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const trials = parseTrials(process.argv.slice(2));
  const kinds: LeaderLoss[] = ['close', 'crash', 'navigate', 'hang'];
  const site = await startSite();
  const browser = await launchChromium();
  const results: Record<string, { takeoverMs: number[]; openMs: number[] }> = {};
  try {
    for (const how of kinds) {
      const takeoverMs: number[] = [];
      const openMs: number[] = [];
      for (let trial = 0; trial < (how === 'hang' ? Math.min(trials, 5) : trials); trial++) {
        const channels = [`bench-${how}-${trial}:a`, `bench-${how}-${trial}:b`];
        const token = await tokenFor(`bench-${how}-${trial}`);
        const pages = await openTabs(browser.context, site, 4, () => ({ channels, token }));
        const open = await untilTabs(pages, (rec) => rec.status === 'open' && rec.share.members === 4);
        const leader = open.findIndex((rec) => rec.share.role === 'leader');
        const others = pages.filter((_, i) => i !== leader);
        const expected = new Map<string, number[]>();
        let i = 0;
        let publishing = true;
        const publisher = (async () => {
          while (publishing) {
            const channel = channels[i % 2]!;
            await site.hub.publish(channel, 'tick', { i });
            const list = expected.get(channel) ?? [];
            expected.set(channel, list);
            list.push(i++);
            await sleep(50);
          }
        })();
        await sleep(500);
        const streams = site.streams().length;
        const lostAt = Date.now();
        const resumed = await loseLeader(pages[leader]!, how);
        const after = await untilTabs(
          others,
          (rec) =>
            rec.status === 'open' &&
            rec.share.members === 3 &&
            (rec.share.role === 'follower' || (rec.openAt ?? 0) > lostAt),
          30_000,
        );
        const next = after.find((rec) => rec.share.role === 'leader' && (rec.openAt ?? 0) > lostAt);
        const request = site.streams()[streams];
        if (!next || !request) throw new Error(`${how}: no tab took over`);
        takeoverMs.push(request.at - lostAt);
        openMs.push(next.openAt! - lostAt);
        await resumed();
        await sleep(500);
        publishing = false;
        await publisher;
        const survivors = how === 'hang' ? pages : others;
        const records = await untilTabs(survivors, (rec) => rec.events.length >= i, 30_000);
        for (const rec of records) {
          const problems = deliveryProblems(rec, expected);
          if (problems.length > 0) throw new Error(`${how} trial ${trial}: ${problems.join('; ')}`);
        }
        for (const page of pages) if (!page.isClosed()) await page.close();
        console.log(
          `${how} #${trial + 1}: takeover ${takeoverMs.at(-1)} ms, open ${openMs.at(-1)} ms (${i} events, all delivered once, in order)`,
        );
      }
      results[how] = { takeoverMs, openMs };
    }
  } finally {
    await browser.close();
    await site.close();
  }
  console.log('\n| leader | trials | takeover p50 / max ms | open p50 / max ms |');
  console.log('|---|---:|---|---|');
  const summary: Record<string, unknown> = {};
  for (const [how, r] of Object.entries(results)) {
    const row = {
      trials: r.takeoverMs.length,
      takeoverP50: quantile(r.takeoverMs, 0.5),
      takeoverMax: Math.max(...r.takeoverMs),
      openP50: quantile(r.openMs, 0.5),
      openMax: Math.max(...r.openMs),
    };
    summary[how] = { ...row, ...r };
    console.log(
      `| ${how} | ${row.trials} | ${row.takeoverP50} / ${row.takeoverMax} | ${row.openP50} / ${row.openMax} |`,
    );
  }
  const dir = path.join(here, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'tabs-failover.json'), JSON.stringify(summary, null, 2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
