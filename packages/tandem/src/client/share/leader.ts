import type { Position, ResyncReason, TimerSlot } from '../../protocol';
import type { IncomingEvent } from '../merge';
import type { LiveClientOptions } from '../options';
import type { LiveClient, LiveState } from '../types';
import type { ClientCore, EngineFactory, ShareKit } from './core';
import { earliestPosition } from './earliest';
import { FlagSignal } from './flag-signal';
import { type BeatBody, type MemberInfo, toWireState } from './messages';
import { sameSet } from './same-set';

/** What the leader needs from the member that holds the group's lock. */
export interface LeaderHost {
  readonly id: string;
  readonly options: LiveClientOptions;
  readonly core: ClientCore;
  readonly makeEngine: EngineFactory;
  readonly kit: ShareKit;
  /** Relays an event of the group's stream (to the other tabs and to this client). */
  event(event: IncomingEvent): void;
  resync(channels: readonly string[], reason: ResyncReason): void;
  beat(body: BeatBody): void;
  /** Tells a member the group cannot take it. */
  refuse(id: string): void;
}

/** The leader's heartbeat interval; each relayed byte of the stream may also carry one. */
export const BEAT_MS = 1_000;
/** Joins and leaves within this window are folded into one change of the stream. */
const REBUILD_MS = 25;
/** After the stream was refused for good, try again this late even if no member left. */
const REFUSED_RETRY_MS = 10_000;

interface Running {
  engine: LiveClient;
  channels: string[];
  state: LiveState;
  off: () => void;
}

const noop = () => {};

/**
 * The group's stream, run by the leader: a client over the union of the members' channels,
 * reopened when that union changes (the new stream opens before the old one closes, and every
 * member drops what it already has), from the positions of the old stream or, for channels new
 * to the group, the earliest a member holds.
 */
export class Leader {
  readonly #members = new Map<string, MemberInfo & { since: number }>();
  #current: Running | null = null;
  #previous: Running | null = null;
  #gathering: Set<string> | null = null;
  readonly #gatherTimer: TimerSlot;
  readonly #rebuildTimer: TimerSlot;
  readonly #retryTimer: TimerSlot;
  readonly #beatTimer: TimerSlot;
  #lastBeatAt = 0;
  #stopped = false;
  /** Whether every member's tab is hidden: the group's poller pauses only then. */
  readonly #hidden = new FlagSignal(false);

  readonly #host: LeaderHost;

  constructor(host: LeaderHost) {
    this.#host = host;
    const { timers } = host.core.env;
    const { TimerSlot } = host.kit;
    this.#gatherTimer = new TimerSlot(timers);
    this.#rebuildTimer = new TimerSlot(timers);
    this.#retryTimer = new TimerSlot(timers);
    this.#beatTimer = new TimerSlot(timers);
  }

  /**
   * Waits for the members still alive to say what they follow and where they are (bounded by
   * `ms`), then opens the stream from the earliest position of each channel.
   */
  gather(expected: readonly string[], ms: number): void {
    this.#gathering = new Set(expected.filter((id) => !this.#members.has(id)));
    if (this.#gathering.size === 0) this.#gathered();
    else this.#gatherTimer.set(ms, () => this.#gathered());
  }

  #gathered(): void {
    this.#gathering = null;
    this.#gatherTimer.clear();
    this.#rebuild();
  }

  join(id: string, info: MemberInfo): void {
    if (this.#stopped) return;
    if (!this.#members.has(id) && this.#union([...info.channels]).length > this.#host.kit.maxChannels) {
      this.#host.refuse(id);
      return;
    }
    const known = this.#members.get(id);
    this.#members.set(id, { ...info, since: known?.since ?? this.#host.core.env.now() });
    for (const type of info.types) this.#listen(type);
    this.#updateHidden();
    if (this.#gathering) {
      this.#gathering.delete(id);
      if (this.#gathering.size === 0) this.#gathered();
    } else this.#rebuildSoon();
    // The newcomer learns where the stream stands, and everyone how many share it.
    this.#beat();
  }

  leave(id: string): void {
    if (!this.#members.delete(id)) return;
    this.#gathering?.delete(id);
    this.#updateHidden();
    if (this.#gathering?.size === 0) this.#gathered();
    else if (!this.#gathering) this.#rebuildSoon();
    this.#beat();
  }

  /** Drops members that joined before `before` and are not in `alive` (their tab is gone). */
  retain(alive: ReadonlySet<string>, before: number): void {
    for (const [id, member] of this.#members) {
      if (id !== this.#host.id && member.since < before && !alive.has(id)) this.leave(id);
    }
  }

  reconnect(): void {
    this.#current?.engine.reconnect();
  }

  /** Bytes arrived on the stream: followers hear the leader is alive without waiting for the timer. */
  activity(): void {
    if (this.#host.core.env.now() - this.#lastBeatAt >= BEAT_MS / 2) this.#beat();
  }

  stop(): void {
    this.#stopped = true;
    this.#gatherTimer.clear();
    this.#rebuildTimer.clear();
    this.#retryTimer.clear();
    this.#beatTimer.clear();
    this.#retire(this.#previous);
    this.#retire(this.#current);
    this.#previous = this.#current = null;
  }

  // ---- the stream -------------------------------------------------------------------------

  #union(extra: string[] = []): string[] {
    const channels = new Set(extra);
    for (const member of this.#members.values()) for (const channel of member.channels) channels.add(channel);
    return [...channels].sort();
  }

  #rebuildSoon(): void {
    this.#rebuildTimer.setIfIdle(REBUILD_MS, () => this.#rebuild());
  }

  #rebuild(): void {
    this.#rebuildTimer.clear();
    this.#retryTimer.clear();
    if (this.#stopped || this.#gathering) return;
    const channels = this.#union();
    const current = this.#current;
    if (current && current.state.status !== 'closed' && sameSet(current.channels, channels)) return;
    if (channels.length === 0) {
      this.#retire(this.#previous);
      this.#retire(this.#current);
      this.#previous = this.#current = null;
      return;
    }
    const live = (run: Running | null) => (run && run.state.status !== 'closed' ? run : null);
    const held = live(current)?.engine.getPositions() ?? {};
    const cursor =
      this.#host.kit.cursorOf(
        channels,
        (channel) => held[channel] ?? earliestPosition(this.#positionsOf(channel)),
      ) ?? undefined;
    const run = this.#start(channels, cursor);
    // Make before break: the stream that is open runs until the new one is.
    const keep =
      current?.state.status === 'open'
        ? current
        : this.#previous?.state.status === 'open'
          ? this.#previous
          : live(current);
    for (const old of [this.#previous, current]) if (old && old !== keep) this.#retire(old);
    this.#previous = keep;
    this.#current = run;
    run.engine.start();
  }

  #start(channels: string[], cursor: string | undefined): Running {
    const run = { channels, off: noop } as Running;
    run.engine = this.#host.makeEngine(this.#engineOptions(channels, cursor), {
      event: (event) => {
        if (!this.#stopped) this.#host.event(event);
      },
      resync: (changed, reason) => {
        if (!this.#stopped) this.#host.resync(changed, reason);
      },
      activity: () => {
        if (run === this.#current) this.activity();
      },
    });
    run.state = run.engine.getState();
    run.off = run.engine.subscribeState((state) => this.#engineState(run, state));
    return run;
  }

  #engineOptions(channels: string[], cursor: string | undefined): LiveClientOptions {
    const { options, core } = this.#host;
    const types = new Set<string>(options.eventTypes);
    for (const member of this.#members.values()) for (const type of member.types) types.add(type);
    const token = options.token;
    return {
      ...options,
      channels,
      ...(cursor ? { cursor } : { cursor: undefined }),
      storage: null,
      shareAcrossTabs: false,
      hidden: this.#hidden,
      eventTypes: [...types],
      // The leader's own token provider: one refresh serves the view's polls and the stream.
      token:
        typeof token === 'function'
          ? ({ reason }) => {
              if (reason === 'unauthorized') core.tokens.invalidate();
              return core.tokens.get();
            }
          : token,
    };
  }

  #listen(type: string): void {
    for (const run of [this.#current, this.#previous]) run?.engine.on(type, noop);
  }

  #engineState(run: Running, state: LiveState): void {
    // A stream refused for good closes, then says why: wait for the why.
    if (state.status === 'closed' && !(state.lastError && this.#host.kit.isFatal(state.lastError))) return;
    run.state = state;
    if (run === this.#current) {
      if (state.status === 'open' || state.status === 'closed') {
        this.#retire(this.#previous);
        this.#previous = null;
      }
      // Refused for good (a member's channel is forbidden, say): each member checks its own
      // channels with a poll and leaves if refused; the stream reopens without it.
      if (state.status === 'closed') this.#retryTimer.set(REFUSED_RETRY_MS, () => this.#rebuild());
    }
    if (run === this.#current || run === this.#previous) this.#beat();
  }

  #retire(run: Running | null): void {
    if (!run) return;
    run.off();
    run.engine.close();
  }

  /** The stream whose state the group sees: the newest, or the old one while the new one opens. */
  #reported(): Running | null {
    const current = this.#current;
    const previous = this.#previous;
    if (previous && current && current.state.status !== 'open') return previous;
    return current;
  }

  #beat(): void {
    if (this.#stopped) return;
    this.#lastBeatAt = this.#host.core.env.now();
    this.#beatTimer.set(BEAT_MS, () => this.#beat());
    const run = this.#reported();
    this.#host.beat({
      state: run ? toWireState(run.state) : { status: 'connecting', polling: false, attempt: 0, error: null },
      positions: this.#current?.engine.getPositions() ?? {},
      members: [...this.#members.keys()],
      channels: run?.channels ?? [],
    });
  }

  #updateHidden(): void {
    let hidden = this.#members.size > 0;
    for (const member of this.#members.values()) if (!member.hidden) hidden = false;
    this.#hidden.set(hidden);
  }

  #positionsOf(channel: string): Array<Position | undefined> {
    return [...this.#members.values()].map((member) => member.positions[channel]);
  }
}
