import { describe, expect, it } from 'vitest';
import { POLL_DEFAULTS, resolvePoll } from '../../src/client/poll-schedule';
import { createPoller } from '../../src/client/poller';
import { fakeEnv } from '../helpers/fake-env';

function setup(options = POLL_DEFAULTS) {
  const env = fakeEnv(0, () => 0.25);
  const polls: number[] = [];
  let open = true;
  let release: (() => void) | null = null;
  let hold = false;
  const poller = createPoller(
    env,
    options,
    () => open,
    () => {
      polls.push(env.now());
      if (!hold) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        release = () => resolve(undefined);
      });
    },
    () => {},
  );
  return {
    env,
    polls,
    poller,
    setOpen(value: boolean) {
      open = value;
      poller.reschedule();
    },
    hold(value: boolean) {
      hold = value;
    },
    release: () => release?.(),
  };
}

describe('poller', () => {
  it('polls on no timer while the stream is open, every 3 s after it drops', async () => {
    const t = setup();
    t.poller.start();
    await t.env.advance(25_000);
    expect(t.polls).toEqual([]);
    t.setOpen(false);
    await t.env.advance(5_000);
    // Overdue at once (nothing polled for 30 s): within the 1 s jitter (250 ms here), then every 3 s.
    expect(t.polls).toEqual([25_250, 28_250]);
    t.setOpen(true);
    await t.env.advance(30_000);
    expect(t.polls).toEqual([25_250, 28_250]);
    t.poller.stop();
  });

  it('polls every 10 s while the stream is open with whileOpen, every 3 s after it drops', async () => {
    const t = setup(resolvePoll({ whileOpen: true }));
    t.poller.start();
    await t.env.advance(25_000);
    expect(t.polls).toEqual([10_000, 20_000]);
    t.setOpen(false);
    await t.env.advance(5_000);
    // The 3 s interval counts from the last poll (20 s): overdue at 25 s, so within the 1 s
    // jitter (250 ms here), then every 3 s.
    expect(t.polls).toEqual([10_000, 20_000, 25_250, 28_250]);
    t.poller.stop();
  });

  it('polls within the jitter window when the stream drops long after the last poll', async () => {
    const t = setup(resolvePoll({ whileOpen: true }));
    t.poller.start();
    await t.env.advance(8_000);
    t.setOpen(false);
    await t.env.advance(1_000);
    expect(t.polls).toEqual([8_250]);
    t.poller.stop();
  });

  it('pauses while hidden and polls at once on becoming visible and on coming online', async () => {
    const t = setup();
    t.poller.start();
    t.env.hidden.set(true);
    await t.env.advance(60_000);
    expect(t.polls).toEqual([]);
    t.env.hidden.set(false);
    await t.env.advance(0);
    expect(t.polls).toEqual([60_000]);
    await t.env.advance(1_000);
    t.env.online.set(false);
    t.env.online.set(true);
    await t.env.advance(0);
    expect(t.polls).toEqual([60_000, 61_000]);
    t.poller.stop();
  });

  it('keeps polling while hidden with whenHidden', async () => {
    const t = setup(resolvePoll({ whenHidden: true, whileOpen: true }));
    t.env.hidden.set(true);
    t.poller.start();
    await t.env.advance(20_000);
    expect(t.polls).toEqual([10_000, 20_000]);
    t.poller.stop();
  });

  it('runs one poll at a time: pollNow during a poll queues exactly one more', async () => {
    const t = setup();
    t.poller.start();
    t.hold(true);
    const first = t.poller.pollNow();
    const second = t.poller.pollNow();
    const third = t.poller.pollNow();
    expect(second).toBe(third);
    await t.env.advance(0);
    expect(t.polls).toEqual([0]);
    t.hold(false);
    t.release();
    await first;
    await second;
    expect(t.polls).toEqual([0, 0]);
    t.poller.stop();
  });

  it('stops for good', async () => {
    const t = setup();
    t.poller.start();
    t.poller.stop();
    await t.env.advance(60_000);
    await t.poller.pollNow();
    expect(t.polls).toEqual([]);
    expect(t.env.pending()).toBe(0);
  });
});
