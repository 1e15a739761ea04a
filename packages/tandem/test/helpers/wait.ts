import { vi } from 'vitest';

/**
 * The tests' one real-time pause. Only for pacing a workload (publishing at a rate, letting a
 * churn happen) or an absence that real time alone can show; a test that waits for something
 * waits on the condition (`until`, `vi.waitFor`, `expect.poll`), and a schedule under test runs
 * on a fake clock (`fake-env.ts`).
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until `predicate` holds, checking every 20 ms: `vi.waitFor` for a plain condition. It
 * resolves `true` (so `expect(await until(…)).toBe(true)` reads as the fact awaited) and fails
 * the test, naming the condition, when it still does not hold after `timeoutMs`.
 */
export async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<true> {
  await vi.waitFor(
    () => {
      if (!predicate()) throw new Error(`still false after ${timeoutMs} ms: ${String(predicate)}`);
    },
    { timeout: timeoutMs, interval: 20 },
  );
  return true;
}
