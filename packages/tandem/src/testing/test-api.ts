/**
 * The test framework the broker contract runs in, handed in by the caller (Vitest, Jest,
 * `bun:test`…) so that `tandem/testing` loads none at run time. Only what the suite uses.
 */

/** The matchers the suite uses, as Jest-compatible `expect` implementations provide them. */
export interface ContractMatchers {
  toBe(expected: unknown): unknown;
  toEqual(expected: unknown): unknown;
  toMatchObject(expected: object): unknown;
  toHaveLength(length: number): unknown;
  toBeLessThan(n: number): unknown;
  toBeLessThanOrEqual(n: number): unknown;
  toBeGreaterThanOrEqual(n: number): unknown;
  readonly rejects: { toMatchObject(expected: object): Promise<unknown> };
}

/** `describe`, `it`, `afterEach` and `expect` of the caller's test framework. */
export interface ContractTestApi {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>, timeoutMs?: number): unknown;
  afterEach(body: () => Promise<void>): unknown;
  expect(actual: unknown): ContractMatchers;
}

/** Retries `check` every 20 ms until it stops throwing; throws its last error after `timeoutMs`. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Resolves once `events` holds at least `count` entries; rejects after `timeoutMs`. */
export function waitForCount(events: readonly unknown[], count: number, timeoutMs = 10_000): Promise<void> {
  return eventually(() => {
    if (events.length < count) throw new Error(`expected ${count} events, got ${events.length}`);
  }, timeoutMs);
}

let counter = 0;
/** A channel name no other test (or earlier run on a shared store) used. */
export const freshChannel = (name: string): string =>
  `test:${name}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
