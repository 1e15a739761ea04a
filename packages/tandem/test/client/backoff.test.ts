import { describe, expect, it } from 'vitest';
import { BACKOFF_DEFAULTS, backoffDelay, backoffWindow, resolveBackoff } from '../../src/client/backoff';
import { seededRandom } from '../helpers/fake-env';

describe('backoff', () => {
  it('grows the window by 1.3 per attempt from 100 ms and caps it at 2 s', () => {
    const windows = Array.from({ length: 16 }, (_, n) => backoffWindow(n, BACKOFF_DEFAULTS));
    expect(windows[0]).toBe(100);
    expect(windows[1]).toBeCloseTo(130);
    expect(windows[2]).toBeCloseTo(169);
    expect(windows[11]).toBeCloseTo(100 * 1.3 ** 11);
    expect(windows[12]).toBe(2000);
    expect(windows[15]).toBe(2000);
    for (let n = 1; n < windows.length; n++) expect(windows[n]).toBeGreaterThanOrEqual(windows[n - 1]!);
  });

  it('draws each delay uniformly from [0, window) (full jitter)', () => {
    expect(backoffDelay(0, BACKOFF_DEFAULTS, () => 0)).toBe(0);
    expect(backoffDelay(0, BACKOFF_DEFAULTS, () => 0.999_999)).toBe(99);
    expect(backoffDelay(20, BACKOFF_DEFAULTS, () => 0.5)).toBe(1000);
    const random = seededRandom(7);
    const delays = Array.from({ length: 10_000 }, () => backoffDelay(12, BACKOFF_DEFAULTS, random));
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(2000);
    expect(mean).toBeGreaterThan(950);
    expect(mean).toBeLessThan(1050);
  });

  it('is configurable, and exact without jitter', () => {
    const options = resolveBackoff({ initialMs: 50, factor: 2, maxMs: 300, jitter: 'none' });
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, options))).toEqual([50, 100, 200, 300, 300]);
  });
});
