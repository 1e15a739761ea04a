import type { Page } from 'playwright-core';

/** Ways a leader tab goes away. */
export type LeaderLoss = 'close' | 'crash' | 'navigate' | 'hang';

/** How long `hang` blocks the tab: longer than the watchdog's window (6 s) and its grace. */
export const HANG_MS = 12_000;

/**
 * Ends (or, for `hang`, suspends) the tab: `close` closes it without its unload handlers,
 * `crash` kills its renderer (CDP `Page.crash`), `navigate` sends it to another page, and
 * `hang` blocks its main thread with a long task for `HANG_MS`: its timers, messages and
 * stream reads stop, but it keeps its locks, as a frozen or hung tab does. Returns a promise
 * of the tab running again.
 */
export async function loseLeader(page: Page, how: LeaderLoss): Promise<() => Promise<void>> {
  const nothing = async () => {};
  switch (how) {
    case 'close':
      await page.close({ runBeforeUnload: false });
      return nothing;
    case 'crash': {
      const crashed = new Promise<void>((resolve) => page.once('crash', () => resolve()));
      const cdp = await page.context().newCDPSession(page);
      // The renderer dies before it can answer.
      void cdp.send('Page.crash').catch(() => {});
      await crashed;
      await page.close().catch(() => {});
      return nothing;
    }
    case 'navigate':
      await page.goto('about:blank');
      return nothing;
    case 'hang': {
      // Chromium's lifecycle freeze (CDP Page.setWebLifecycleState) leaves a visible page's
      // timers running; a long task stops everything, as a frozen tab is stopped.
      const hung = page.evaluate((ms) => {
        const end = Date.now() + ms;
        while (Date.now() < end) {
          // busy
        }
      }, HANG_MS);
      return async () => {
        await hung;
      };
    }
  }
}
