import { describe, expect, it } from 'vitest';
import { followerView, type OwnView } from '../../src/client/share/follower-view';
import type { BeatBody, WireState } from '../../src/client/share/messages';
import type { LiveState } from '../../src/client/types';
import { TandemError } from '../../src/protocol';

/** What a follower tab makes of its leader's heartbeat: a pure function of the beat and the tab. */

const OPEN: WireState = { status: 'open', polling: false, attempt: 0, error: null };
const STATE: LiveState = {
  status: 'connecting',
  polling: false,
  attempt: 0,
  lastError: null,
  lastEventAt: null,
  share: { role: 'follower', members: 2, id: 'me', leader: 'l' },
};

const beat = (body: Partial<BeatBody>): BeatBody => ({
  state: OPEN,
  positions: {},
  members: ['l', 'me'],
  channels: ['a', 'b'],
  ...body,
});
const own = (view: Partial<OwnView>): OwnView => ({
  channels: ['a'],
  positions: {},
  state: STATE,
  refused: null,
  ...view,
});

describe('follower view', () => {
  it("is open once the group's open stream follows all of the tab's channels", () => {
    expect(followerView(beat({}), null, own({})).state?.status).toBe('open');
    expect(followerView(beat({ channels: ['b'] }), null, own({})).state?.status).toBe('connecting');
  });

  it("stops the tab when the hub refused exactly the tab's channels", () => {
    const refused = new TandemError('forbidden', 'no');
    const closed = {
      ...OPEN,
      status: 'closed' as const,
      error: { code: 'forbidden' as const, message: 'no' },
    };
    const update = followerView(beat({ state: closed, channels: ['a'] }), refused, own({}));
    expect(update.fail).toBe(refused);
    expect(update.state).toBeNull();
  });

  it("checks a refusal of the group's stream with one poll of its own, then waits for it to change", () => {
    const error = new TandemError('forbidden', 'not b');
    const closed = {
      ...OPEN,
      status: 'closed' as const,
      error: { code: 'forbidden' as const, message: 'not b' },
    };
    const first = followerView(beat({ state: closed }), error, own({}));
    expect(first).toMatchObject({ fail: null, poll: true, state: { status: 'reconnecting' } });
    const again = followerView(beat({ state: closed }), error, own({ refused: first.refused }));
    expect(again.poll).toBe(false);
    expect(again.refused).toBe(first.refused);
    expect(followerView(beat({}), null, own({ refused: first.refused })).refused).toBeNull();
  });

  it("starts where the group's stream stands on channels it has no position for", () => {
    const update = followerView(
      beat({ positions: { a: { epoch: 'e1', offset: 7 }, b: { epoch: 'e1', offset: 3 } } }),
      null,
      own({}),
    );
    expect(update.learn).toEqual({ a: { epoch: 'e1', offset: 7 } });
    expect(update.poll).toBe(false);
  });

  it('polls for itself when behind the stream in the same epoch, not in another epoch', () => {
    const positions = { a: { epoch: 'e1', offset: 7 } };
    const behind = followerView(
      beat({ positions }),
      null,
      own({ positions: { a: { epoch: 'e1', offset: 5 } } }),
    );
    expect(behind).toMatchObject({ poll: true, learn: null });
    const other = followerView(
      beat({ positions }),
      null,
      own({ positions: { a: { epoch: 'e0', offset: 5 } } }),
    );
    const ahead = followerView(
      beat({ positions }),
      null,
      own({ positions: { a: { epoch: 'e1', offset: 9 } } }),
    );
    expect([other.poll, ahead.poll]).toEqual([false, false]);
  });

  it('sets the last error only when it changed', () => {
    const error = new TandemError('network', 'down');
    const reconnecting = {
      ...OPEN,
      status: 'reconnecting' as const,
      error: { code: 'network' as const, message: 'down' },
    };
    expect(followerView(beat({ state: reconnecting }), error, own({})).state).toHaveProperty(
      'lastError',
      error,
    );
    const same = followerView(
      beat({ state: reconnecting }),
      error,
      own({ state: { ...STATE, lastError: new TandemError('network', 'down') } }),
    );
    expect(same.state).not.toHaveProperty('lastError');
  });
});
