import { describe, expect, it } from 'vitest';
import { HeadsWatch, headsEvidence } from '../../src/client/heads-watch';
import type { Position } from '../../src/protocol';
import { fakeEnv } from '../helpers/fake-env';

const at = (epoch: string, offset: number): Position => ({ epoch, offset });

describe('headsEvidence', () => {
  it('finds the channels whose position is below the announced head, in the same epoch', () => {
    const positions = { a: at('e', 4), b: at('e', 9), c: at('old', 1) };
    expect(
      headsEvidence({ a: at('e', 6), b: at('e', 9), c: at('new', 5), d: at('e', 3) }, positions),
    ).toEqual(new Map([['a', at('e', 6)]]));
    // Ahead of the head (the heartbeat was built before the last event), or no heads at all.
    expect(headsEvidence({ a: at('e', 2) }, positions).size).toBe(0);
    expect(headsEvidence(null, positions).size).toBe(0);
  });
});

describe('HeadsWatch', () => {
  function setup(graceMs = 1000) {
    const env = fakeEnv(0);
    const positions: Record<string, Position> = { a: at('e', 1), b: at('e', 1) };
    const polls: number[] = [];
    const watch = new HeadsWatch(
      env.timers,
      graceMs,
      () => ({ ...positions }),
      () => polls.push(env.now()),
    );
    return { env, positions, polls, watch };
  }

  it('polls once, after the grace, when the client is still behind a head it heard', async () => {
    const t = setup();
    t.watch.heard({ a: at('e', 3) });
    await t.env.advance(500);
    t.watch.heard({ a: at('e', 3), b: at('e', 2) }); // a second heartbeat does not restart the grace
    await t.env.advance(499);
    expect(t.polls).toEqual([]);
    await t.env.advance(1);
    expect(t.polls).toEqual([1000]);
    await t.env.advance(10_000);
    expect(t.polls).toEqual([1000]);
  });

  it('does not poll when the events arrive within the grace', async () => {
    const t = setup();
    t.watch.heard({ a: at('e', 3), b: at('e', 2) });
    await t.env.advance(300);
    t.positions.a = at('e', 3);
    t.positions.b = at('e', 2);
    await t.env.advance(5_000);
    expect(t.polls).toEqual([]);
    expect(t.env.pending()).toBe(0);
  });

  it('polls when only part of what it heard arrived', async () => {
    const t = setup();
    t.watch.heard({ a: at('e', 3), b: at('e', 2) });
    t.positions.a = at('e', 3);
    await t.env.advance(1000);
    expect(t.polls).toEqual([1000]);
  });

  it('hears nothing while the client keeps up, and forgets everything on stop', async () => {
    const t = setup();
    for (let i = 0; i < 10; i++) t.watch.heard({ a: at('e', 1), b: at('e', 0) });
    expect(t.env.pending()).toBe(0);
    t.watch.heard({ a: at('e', 5) });
    t.watch.stop();
    await t.env.advance(5_000);
    expect(t.polls).toEqual([]);
  });
});
