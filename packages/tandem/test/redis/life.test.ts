import { describe, expect, it } from 'vitest';
import { emptyEpoch, isValidEpoch } from '../../src/protocol';
import { lifeContinues, NO_LIFE, newLife } from '../../src/redis/life';

const DAY = 86_400_000;
const looked = 1_800_000_000_000;
/** A log of the life `life`, created `after` ms after the look. */
const log = (life: string, after: number) => ({
  epoch: `${life}0123456789`,
  head: 3,
  oldest: 1,
  created: looked + after,
});

describe('the life of a Redis dataset', () => {
  it('makes markers of 4 base-36 characters, never the source of an unmarked or older look', () => {
    for (let i = 0; i < 2000; i++) {
      const life = newLife();
      expect(life).toMatch(/^[0-9a-z]{4}$/);
      expect(life).not.toBe(NO_LIFE);
      expect(life).not.toBe('r000');
      expect(isValidEpoch(log(life, 0).epoch)).toBe(true);
    }
  });

  it('continues a look into a log of the same life created within idleTtlMs after it', () => {
    const empty = emptyEpoch('ab12', looked);
    expect(lifeContinues(empty, log('ab12', 0), DAY)).toBe(true);
    expect(lifeContinues(empty, log('ab12', DAY - 1), DAY)).toBe(true);
    // idleTtlMs 0 keeps logs forever: no log in between can have expired.
    expect(lifeContinues(empty, log('ab12', 10 * DAY), 0)).toBe(true);
  });

  it('resyncs into a log of another life, of no life, or outside the window', () => {
    const empty = emptyEpoch('ab12', looked);
    expect(lifeContinues(empty, log('cd34', 0), DAY)).toBe(false);
    expect(lifeContinues(empty, log('ab12', DAY), DAY)).toBe(false);
    expect(lifeContinues(empty, log('ab12', -1), DAY)).toBe(false);
    expect(lifeContinues(empty, { ...log('ab12', 0), created: undefined }, DAY)).toBe(false);
    // A look that found no marker, and one from before markers, continue into nothing.
    expect(lifeContinues(emptyEpoch(NO_LIFE, looked), log(NO_LIFE, 0), DAY)).toBe(false);
    expect(lifeContinues(emptyEpoch('r000', looked), log(newLife(), 0), DAY)).toBe(false);
    // Not an empty epoch at all.
    expect(lifeContinues('ab120123456789', log('ab12', 0), DAY)).toBe(false);
  });
});
