import { describe, expect, it } from 'vitest';
import { nextPollDelay, POLL_DEFAULTS, resolvePoll } from '../../src/client/poll-schedule';

const at = (now: number, lastPollAt: number, streamOpen: boolean, hidden = false) => ({
  now,
  lastPollAt,
  streamOpen,
  hidden,
});

describe('poll schedule', () => {
  it('polls every 3 s while the stream is not open, and on no timer while it is', () => {
    expect(nextPollDelay(at(0, 0, false), POLL_DEFAULTS)).toBe(3_000);
    expect(nextPollDelay(at(0, 0, true), POLL_DEFAULTS)).toBeNull();
    expect(nextPollDelay(at(60_000, 0, true), POLL_DEFAULTS)).toBeNull();
  });

  it('polls every 10 s while the stream is open when asked to (whileOpen, or an openIntervalMs)', () => {
    expect(resolvePoll(undefined).whileOpen).toBe(false);
    expect(resolvePoll({ whileOpen: true })).toMatchObject({ whileOpen: true, openIntervalMs: 10_000 });
    expect(resolvePoll({ openIntervalMs: 5_000 })).toMatchObject({ whileOpen: true, openIntervalMs: 5_000 });
    expect(resolvePoll({ openIntervalMs: 5_000, whileOpen: false }).whileOpen).toBe(false);
    expect(nextPollDelay(at(0, 0, true), resolvePoll({ whileOpen: true }))).toBe(10_000);
    expect(nextPollDelay(at(1_000, 0, true), resolvePoll({ openIntervalMs: 5_000 }))).toBe(4_000);
    expect(nextPollDelay(at(0, 0, false), resolvePoll({ whileOpen: true }))).toBe(3_000);
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
