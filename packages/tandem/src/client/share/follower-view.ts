import type { Position, TandemError } from '../../protocol';
import type { LiveState } from '../types';
import type { ClientCore } from './core';
import type { BeatBody } from './messages';
import { sameSet } from './same-set';

/** What a member follows and shows, as its leader's heartbeat finds it. */
export interface OwnView {
  readonly channels: readonly string[];
  readonly positions: Readonly<Record<string, Position>>;
  readonly state: LiveState;
  /** The refusal this member already checked with a poll of its own (see `FollowerUpdate`). */
  readonly refused: string | null;
}

/** What a member does with its leader's heartbeat. */
export interface FollowerUpdate {
  /** The hub refused exactly this member's channels: it stops with this error, as it would alone. */
  readonly fail: TandemError | null;
  /** The state the member takes (null when it fails). */
  readonly state:
    | (Pick<LiveState, 'status' | 'polling' | 'attempt'> & Partial<Pick<LiveState, 'lastError'>>)
    | null;
  /** Where the member starts on channels it has no position for: where the group's stream stands. */
  readonly learn: Record<string, Position> | null;
  /** Whether the member polls its own channels (it is behind the stream, or checks a refusal). */
  readonly poll: boolean;
  /** The refusal checked, to remember until the group's stream is no longer refused. */
  readonly refused: string | null;
}

/**
 * The group's state, as the leader's heartbeat says it, made this member's: `open` once the
 * open stream follows all of the member's channels. A stream refused for good is checked by a
 * poll of the member's own. Channels with no position yet start where the group's stream
 * stands; a channel behind it (in the same epoch) missed an event that the stream relayed
 * before this heartbeat — the last of a burst leaves no hole to notice — so the member polls.
 * Pure: `lastError` is the group's error, already made a `TandemError`.
 */
export function followerView(beat: BeatBody, lastError: TandemError | null, own: OwnView): FollowerUpdate {
  const { state, channels } = beat;
  const base = { learn: null, poll: false, refused: own.refused };
  if (state.status === 'closed' && lastError && sameSet(channels, own.channels)) {
    return { ...base, fail: lastError, state: null };
  }
  let status = state.status;
  let refused: string | null = null;
  let poll = false;
  if (status === 'closed') {
    // The group's stream was refused (400/403/404), maybe for another member's channel. This
    // member asks for its own channels; if refused too, the poll stops it as it would alone.
    refused = `${state.error?.code}:${state.error?.message}`;
    poll = own.refused !== refused;
    status = 'reconnecting';
  }
  // A stream that does not follow this member's channels yet (the group's stream is being
  // reopened with them) is not this member's stream.
  if (status === 'open' && !own.channels.every((channel) => channels.includes(channel)))
    status = 'connecting';
  const current = own.state.lastError;
  const sameError = current?.code === lastError?.code && current?.message === lastError?.message;
  const learn: Record<string, Position> = {};
  let learns = false;
  for (const channel of own.channels) {
    const group = beat.positions[channel];
    const mine = own.positions[channel];
    if (!group) continue;
    if (!mine) {
      learn[channel] = group;
      learns = true;
    } else if (mine.epoch === group.epoch && mine.offset < group.offset) poll = true;
  }
  return {
    fail: null,
    state: {
      status,
      polling: state.polling,
      attempt: state.attempt,
      ...(sameError ? {} : { lastError }),
    },
    learn: learns ? learn : null,
    poll,
    refused,
  };
}

/**
 * Makes the leader's heartbeat the client's (see `followerView`); `poll` polls the client's own
 * channels. Returns the refusal to remember.
 */
export function followBeat(
  core: ClientCore,
  beat: BeatBody,
  lastError: TandemError | null,
  refused: string | null,
  poll: () => void,
): string | null {
  const own = { channels: core.channels, positions: core.getPositions(), state: core.getState(), refused };
  const update = followerView(beat, lastError, own);
  if (update.fail) {
    core.fail(update.fail);
    return refused;
  }
  if (update.state) core.setState(update.state);
  if (update.learn) core.learn(update.learn);
  if (update.poll) poll();
  return update.refused;
}
