import type { LiveClientOptions } from '../options';
import type { Watchdog } from '../watchdog';
import type { ClientCore, EngineFactory, ShareContext, ShareKit, TabShare } from './core';
import { Election, takeoverRank } from './election';
import { followBeat } from './follower-view';
import { GroupChannel, type MessageHandlers } from './group-channel';
import { groupName } from './identity';
import { Leadership } from './leadership';
import { type BeatBody, fromWireState, type MemberInfo, type Term } from './messages';
import { parkWithPage } from './page-park';
import type { SharePlatform } from './platform';
import { type Role, sameShare, shareState } from './share-state';
import { Terms } from './terms';

/**
 * The client's membership in its group of tabs. The client loads this module (a chunk of its
 * own in an app's bundle) only where it can share: on, with Web Locks and BroadcastChannel.
 */
export function createTabShare(
  options: LiveClientOptions,
  core: ClientCore,
  makeEngine: EngineFactory,
  parts: SharePlatform,
  kit: ShareKit,
): TabShare {
  return new Member({ options, core, makeEngine, parts, kit });
}

/** Members made in this page: a member's id is random, and unique in the page whatever the random. */
let made = 0;

/**
 * One client in a group: clients of one origin that follow the same hub as the same identity.
 * They elect a leader (`Election`); the leader runs the group's stream (`Leadership`) and relays its
 * events, state and heartbeat over the group's channel (`GroupChannel`); each member merges what
 * it is relayed into its own positions, so it gets its own channels, each event once, in order,
 * and shows the group's state as its own (`followerView`). A member whose leader falls silent
 * for the watchdog's window takes the lock from it.
 */
class Member implements TabShare {
  readonly #id = `${Math.random().toString(36).slice(2, 10)}${(++made).toString(36)}`;
  readonly #context: ShareContext;
  readonly #options: LiveClientOptions;
  readonly #core: ClientCore;
  readonly #kit: ShareKit;
  #role: Role = 'off';
  /** Bumped by every start and stop: late callbacks of an earlier run are ignored. */
  #run = 0;
  #group: GroupChannel | null = null;
  #election: Election | null = null;
  readonly #terms = new Terms();
  #roster: string[] = [];
  #members = 1;
  #leadership: Leadership | null = null;
  #offHidden: (() => void) | null = null;
  readonly #watch: Watchdog;
  /** This client's own polls: one at a time, and one more for the calls during it. */
  readonly pollNow: () => Promise<void>;
  #refused: string | null = null;
  #offPage: (() => void) | null = null;

  constructor(context: ShareContext) {
    this.#context = context;
    const { options, core, kit } = context;
    this.#options = options;
    this.#core = core;
    this.#kit = kit;
    const { env } = core;
    // The leader's silence is judged as a stream's: the app's watchdog options, and the default
    // heartbeat (no hello announces the leader's), so a window of 3 × 2 s unless told otherwise.
    this.#watch = kit.createWatchdog(env, options.watchdog ?? {}, () => this.#silent());
    this.pollNow = kit.singleFlight(() => core.pollOnce());
  }

  get driven(): boolean {
    return this.#role === 'follower' || this.#role === 'leader';
  }

  start(): void {
    this.#offPage?.();
    const member = this;
    this.#offPage = parkWithPage(this.#core, {
      get grouped() {
        return member.#role !== 'off' && member.#role !== 'alone';
      },
      leave: () => this.#leave(),
      join: () => this.#join(),
    });
    this.#join();
  }

  stop(): void {
    this.#offPage?.();
    this.#offPage = null;
    this.#leave();
  }

  listen(): void {
    if (this.driven) this.#announce();
  }

  reconnect(): void {
    if (this.#role === 'leader') this.#leadership?.leader.reconnect();
    else if (this.#role === 'follower') this.#group?.send({ t: 'reconnect', from: this.#id });
  }

  // ---- joining and leaving ----------------------------------------------------------------

  #join(): void {
    const run = ++this.#run;
    this.#role = 'pending';
    // The group is known once the identity is: the token's, unless the app named it.
    if (this.#options.shareKey !== undefined) {
      this.#begin(run, null);
      return;
    }
    this.#core.tokens.get().then(
      (token) => this.#begin(run, token),
      () => this.#begin(run, null),
    );
  }

  #leave(): void {
    this.#run++;
    this.#leaveGroup();
    this.#role = 'off';
    this.#publish();
  }

  #begin(run: number, token: string | null): void {
    if (run !== this.#run || !this.#core.started) return;
    const name = groupName(this.#options.url, this.#options.shareKey, token, this.#kit);
    if (name === null) {
      this.#alone();
      return;
    }
    try {
      this.#group = new GroupChannel(this.#context.parts, name, this.#id, this.#kit, this.#handlers());
    } catch {
      this.#alone();
      return;
    }
    this.#role = 'follower';
    const host = {
      mayLead: () => this.#role === 'follower',
      elected: () => this.#lead(),
      deposed: () => this.#stepDown(),
    };
    const takeover = new this.#kit.TimerSlot(this.#core.env.timers);
    this.#election = new Election(this.#context.parts.locks, name, this.#id, host, takeover);
    this.#election.start();
    this.#offHidden = this.#core.env.hidden.subscribe(() => this.#announce());
    this.#announce();
    // If the lock's holder never speaks, take it over after the watchdog's window.
    this.#watch.start();
    this.#publish();
  }

  /** Runs the client's own stream: not shareable, or the group cannot take it. */
  #alone(): void {
    this.#leaveGroup();
    this.#role = 'alone';
    this.#publish();
    this.#core.runOwn();
  }

  #leaveGroup(): void {
    this.#group?.send({ t: 'leave', from: this.#id });
    this.#leadership?.stop();
    this.#leadership = null;
    this.#election?.stop();
    this.#election = null;
    this.#offHidden?.();
    this.#offHidden = null;
    this.#group?.close();
    this.#group = null;
    this.#watch.stop();
    this.#terms.forget();
    this.#roster = [];
    this.#members = 1;
    this.#refused = null;
  }

  /** What this member follows, told to the leader (itself included). */
  #info(): MemberInfo {
    const { channels, types, env } = this.#core;
    const positions = this.#core.getPositions();
    return { channels: [...channels], positions, types: [...types], hidden: env.hidden.get() };
  }

  #announce(): void {
    if (this.#role === 'leader') this.#leadership?.leader.join(this.#id, this.#info());
    else if (this.#role === 'follower') this.#group?.send({ t: 'join', from: this.#id, ...this.#info() });
  }

  // ---- leading ----------------------------------------------------------------------------

  #lead(): void {
    this.#role = 'leader';
    const term = this.#terms.claim(this.#id, this.#core.env.now());
    this.#watch.stop();
    this.#leadership = new Leadership(
      {
        ...this.#context,
        id: this.#id,
        term,
        election: this.#election!,
        roster: this.#roster,
        send: (message) => this.#group?.send(message),
        follow: (beat) => this.#follow(beat),
        resynced: (channels) => this.#resynced(channels),
      },
      this.#info(),
    );
    this.#publish();
  }

  /** Follows again: a newer leader spoke, or this one was found silent and deposed. */
  #stepDown(): void {
    this.#leadership?.stop();
    this.#leadership = null;
    this.#role = 'follower';
    this.#watch.start();
    this.#publish();
  }

  // ---- following --------------------------------------------------------------------------

  /** No word from the leader for the watchdog's window: take the lock, one follower after another. */
  #silent(): void {
    if (this.#role !== 'follower') return;
    this.#election?.takeOver(takeoverRank(this.#id, this.#roster, this.#terms.leader));
    this.#watch.start();
  }

  /** What this member does with each message of the others. */
  #handlers(): MessageHandlers {
    const leader = () => this.#leadership?.leader;
    return {
      join: ({ t, from, ...info }) => leader()?.join(from, info),
      leave: (m) => leader()?.leave(m.from),
      reconnect: () => leader()?.reconnect(),
      alone: (m) => {
        if (m.to === this.#id && this.#role === 'follower') this.#alone();
      },
      leader: (m) => void this.#heardOf({ term: m.term, id: m.from }),
      beat: (m) => {
        if (this.#heardOf({ term: m.term, id: m.from })) this.#follow(m);
      },
      event: (m) => {
        if (this.#terms.follows(m.from, m.term)) this.#heard();
        // From any leader (two may run for a moment): the merge drops what was delivered.
        this.#core.ingest(m.event);
      },
      resync: (m) => this.#resynced(m.channels),
    };
  }

  #resynced(channels: readonly string[]): void {
    if (channels.some((channel) => this.#core.channels.includes(channel))) void this.pollNow();
  }

  #heard(): void {
    this.#watch.touch();
    this.#election?.heard();
  }

  /** A leader spoke: true when it is the one this member follows (or a newer one, now followed). */
  #heardOf(term: Term): boolean {
    const heard = this.#terms.heard(term);
    if (heard === null) return false;
    this.#heard();
    if (heard === 'followed') return true;
    if (this.#role === 'leader') {
      this.#stepDown();
      this.#election?.resign();
    }
    // Tell the new leader what this member follows and where it is.
    this.#announce();
    this.#publish();
    return true;
  }

  /** The leader's heartbeat: its roster and its state become this client's. */
  #follow(beat: BeatBody): void {
    this.#roster = beat.members;
    this.#members = Math.max(1, beat.members.length);
    this.#publish();
    const { lastError } = fromWireState(beat.state, this.#kit);
    this.#refused = followBeat(this.#core, beat, lastError, this.#refused, () => void this.pollNow());
  }

  /** This client's share state, set only when it changed. */
  #publish(): void {
    const share = shareState(this.#role, this.#members, this.#id, this.#terms.leader);
    if (!sameShare(this.#core.getState().share, share)) this.#core.setState({ share });
  }
}
