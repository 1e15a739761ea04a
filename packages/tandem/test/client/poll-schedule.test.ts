import { describe, expect, it } from 'vitest';
import { nextPollDelay, POLL_DEFAULTS, resolvePoll } from '../../src/client/poll-schedule';

const at = (now: number, lastPollAt: number, streamOpen: boolean, hidden = false) => ({
  now,
  lastPollAt,
  streamOpen,
  hidden,
});

describe('poll schedule', () => {
  it('polls every 10 s while the stream is open and every 3 s while it is not', () => {
    expect(nextPollDelay(at(0, 0, true), POLL_DEFAULTS)).toBe(10_000);
    expect(nextPollDelay(at(0, 0, false), POLL_DEFAULTS)).toBe(3_000);
  });

  it('counts from the last poll, so a drop brings the next poll forward (at once if overdue)', () => {
    expect(nextPollDelay(at(1_000, 0, false), POLL_DEFAULTS)).toBe(2_000);
    expect(nextPollDelay(at(8_000, 0, false), POLL_DEFAULTS)).toBe(0);
  });

  it('spreads overdue polls over jitterMs, so clients dropped together do not poll together', () => {
    expect(nextPollDelay({ ...at(8_000, 0, false), random: () => 0.5 }, POLL_DEFAULTS)).toBe(500);
    expect(nextPollDelay({ ...at(8_000, 0, false), random: () => 0.999 }, POLL_DEFAULTS)).toBe(999);
    // Not overdue: the plain schedule, no jitter.
    expect(nextPollDelay({ ...at(1_000, 0, false), random: () => 0.5 }, POLL_DEFAULTS)).toBe(2_000);
  });

  it('pauses in hidden tabs unless asked to keep polling', () => {
    expect(nextPollDelay(at(0, 0, false, true), POLL_DEFAULTS)).toBeNull();
    expect(nextPollDelay(at(0, 0, false, true), resolvePoll({ whenHidden: true }))).toBe(3_000);
  });

  it('honours a Retry-After and can be disabled', () => {
    expect(nextPollDelay({ ...at(0, 0, false), notBefore: 5_000 }, POLL_DEFAULTS)).toBe(5_000);
    expect(nextPollDelay(at(0, 0, false), resolvePoll({ enabled: false }))).toBeNull();
  });
});
