import { describe, expect, it } from 'vitest';
import { singleFlight } from '../../src/client/single-flight';

/** The one-at-a-time gate of polls (the poller's, and a tab group member's own). */

function controlled() {
  const runs: Array<() => void> = [];
  let active = 0;
  let most = 0;
  const task = () =>
    new Promise<void>((resolve) => {
      active += 1;
      most = Math.max(most, active);
      runs.push(() => {
        active -= 1;
        resolve();
      });
    });
  return { task, runs, most: () => most };
}

describe('singleFlight', () => {
  it('runs once more after the run in flight, however many calls came during it', async () => {
    const { task, runs, most } = controlled();
    const call = singleFlight(task);
    const first = call();
    const during = [call(), call(), call()];
    expect(runs).toHaveLength(1);
    expect(new Set(during).size).toBe(1);
    runs[0]!();
    await first;
    await expect.poll(() => runs.length).toBe(2);
    runs[1]!();
    await Promise.all(during);
    expect(runs).toHaveLength(2);
    expect(most()).toBe(1);
  });

  it('runs again for a call after the runs settled, and a failed run neither rejects nor blocks', async () => {
    let calls = 0;
    const call = singleFlight(async () => {
      calls += 1;
      if (calls === 1) throw new Error('refused');
    });
    await expect(call()).resolves.toBeUndefined();
    await call();
    expect(calls).toBe(2);
  });
});
