import type { Position, ResyncReason, TimerSlot } from '../../protocol';
import type { IncomingEvent } from '../merge';
import type { LiveClientOptions } from '../options';
import type { ShareState } from '../types';
import type { Watchdog } from '../watchdog';
import type { ClientCore, EngineFactory, ShareKit, TabShare } from './core';
import { groupName } from './identity';
import { Leader, type MemberInfo } from './leader';
import {
  type BeatBody,
  fromWireState,
  newer,
  parseMessage,
  type ShareMessage,
  type Term,
  wire,
} from './messages';
import type { BroadcastChannelLike, LockOptionsLike, SharePlatform } from './platform';

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
  return new Member(options, core, makeEngine, parts, kit);
}

/** A new leader waits this long at most for the members alive to say where they are. */
const GATHER_MS = 200;
/** Followers that all find the leader silent take over one after another, this far apart. */
const TAKEOVER_STAGGER_MS = 250;
/** How often the leader drops members whose tab is gone (their member lock was released). */
const PRUNE_MS = 2_000;

let counter = 0;
function newId(): string {
  counter += 1;
  return `${Math.random().toString(36).slice(2, 10)}${counter.toString(36)}`;
}

const ALONE: ShareState = { role: 'alone', members: 1, id: '', leader: null };

type Role = 'off' | 'pending' | 'alone' | 'follower' | 'leader';

/**
 * One client in a group: clients of one origin that follow the same hub as the same identity.
 * They elect a leader with a Web Lock; the leader runs the group's stream (see `Leader`) and
 * relays its events, state and heartbeat over a BroadcastChannel; each member merges what it
 * is relayed into its own positions, so it gets its own channels, each event once, in order.
 * A member whose leader falls silent for the watchdog's window takes the lock from it.
 */
class Member implements TabShare {
  readonly id = newId();
  private role: Role = 'off';
  /** Bumped by every start and stop: late callbacks of an earlier run are ignored. */
  private run = 0;
  private name = '';
  private channel: BroadcastChannelLike | null = null;
  /** The leader this member follows (itself when leading). */
  private leaderTerm: Term | null = null;
  private maxTerm = 0;
  private lastHeardAt = 0;
  private roster: string[] = [];
  private members = 1;
  private leader: Leader | null = null;
  private releaseLead: (() => void) | null = null;
  private leadSeq = 0;
  private lockSeq = 0;
  private queued: AbortController | null = null;
  private releaseMember: (() => void) | null = null;
  private unsubscribeHidden: (() => void) | null = null;
  private readonly watch: Watchdog;
  private readonly takeover: TimerSlot;
  private readonly pruneTimer: TimerSlot;
  private ownPoll: Promise<void> | null = null;
  private nextPoll: Promise<void> | null = null;
  private refusedError: string | null = null;
  /** Left the group while the page is put away; joins again when it is back. */
  private parked = false;
  private offPage: (() => void) | null = null;

  constructor(
    private readonly options: LiveClientOptions,
    private readonly core: ClientCore,
    private readonly makeEngine: EngineFactory,
    private readonly parts: SharePlatform,
    private readonly kit: ShareKit,
  ) {
    const { env } = core;
    const { createWatchdog, watchdogDefaults, TimerSlot } = kit;
    const w = options.watchdog ?? {};
    const window =
      w.timeoutMs ??
      (w.defaultHeartbeatMs ?? watchdogDefaults.defaultHeartbeatMs) *
        (w.heartbeatMultiplier ?? watchdogDefaults.heartbeatMultiplier);
    this.watch = createWatchdog(env, { ...w, timeoutMs: window }, () => this.silent());
    this.takeover = new TimerSlot(env.timers);
    this.pruneTimer = new TimerSlot(env.timers);
  }

  get driven(): boolean {
    return this.role === 'follower' || this.role === 'leader';
  }

  start(): void {
    this.parked = false;
    this.watchPage();
    this.join();
  }

  stop(): void {
    this.parked = false;
    this.offPage?.();
    this.offPage = null;
    this.leave();
  }

  private join(): void {
    const run = ++this.run;
    this.role = 'pending';
    // The group is known once the identity is: the token's, unless the app named it.
    if (this.options.shareKey !== undefined) {
      this.begin(run, null);
      return;
    }
    this.core.tokens.get().then(
      (token) => this.begin(run, token),
      () => this.begin(run, null),
    );
  }

  private leave(): void {
    this.run++;
    this.leaveGroup();
    this.role = 'off';
    this.publish();
  }

  /**
   * A page put away (into the back/forward cache, or frozen) leaves its group at once, so that
   * another tab takes the stream over without waiting for the heartbeat to fall silent and the
   * page holds no lock that keeps it out of the cache; back, it joins again from its positions.
   */
  private watchPage(): void {
    this.offPage ??= this.core.env.frozen.subscribe((frozen) => {
      if (frozen && this.role !== 'off' && this.role !== 'alone' && this.core.started) {
        this.parked = true;
        this.leave();
        this.core.setState({ status: 'idle', polling: false });
      } else if (!frozen && this.parked && this.core.started) {
        this.parked = false;
        this.core.setState({ status: 'connecting' });
        this.join();
      }
    });
  }

  listen(): void {
    if (this.driven) this.announce();
  }

  pollNow(): Promise<void> {
    // One poll of this client's own channels at a time, and at most one more queued.
    if (this.ownPoll) {
      this.nextPoll ??= this.ownPoll.then(() => {
        this.nextPoll = null;
        return this.pollNow();
      });
      return this.nextPoll;
    }
    const poll = this.core.pollOnce().then(
      () => {
        this.ownPoll = null;
      },
      () => {
        this.ownPoll = null;
      },
    );
    this.ownPoll = poll;
    return poll;
  }

  reconnect(): void {
    if (this.role === 'leader') this.leader?.reconnect();
    else if (this.role === 'follower') this.send({ t: 'reconnect', from: this.id });
  }

  // ---- joining and leaving ----------------------------------------------------------------

  private begin(run: number, token: string | null): void {
    if (run !== this.run || !this.core.started) return;
    const name = groupName(this.options.url, this.options.shareKey, token);
    if (name === null) {
      this.alone();
      return;
    }
    this.name = name;
    let channel: BroadcastChannelLike;
    try {
      channel = new this.parts.BroadcastChannel(name);
    } catch {
      this.alone();
      return;
    }
    this.channel = channel;
    channel.onmessage = (event) => this.receive(event.data);
    this.role = 'follower';
    this.lastHeardAt = this.core.env.now();
    // Held while this member runs: a leader tells members that are gone by their released lock.
    this.hold(`${name} member ${this.id}`, (release) => {
      this.releaseMember = release;
    });
    this.unsubscribeHidden = this.core.env.hidden.subscribe(() => this.announce());
    this.announce();
    // If the lock's holder never speaks, take it over after the watchdog's window.
    this.watch.start();
    this.queue(false);
    this.publish();
  }

  /** Runs the client's own stream: not shareable, or the group cannot take it. */
  private alone(): void {
    this.leaveGroup();
    this.role = 'alone';
    this.publish();
    this.core.runOwn();
  }

  private leaveGroup(): void {
    if (this.channel) this.send({ t: 'leave', from: this.id });
    this.leader?.stop();
    this.leader = null;
    this.releaseLead?.();
    this.releaseLead = null;
    this.queued?.abort();
    this.queued = null;
    this.lockSeq++;
    this.releaseMember?.();
    this.releaseMember = null;
    this.unsubscribeHidden?.();
    this.unsubscribeHidden = null;
    this.channel?.close();
    this.channel = null;
    this.watch.stop();
    this.takeover.clear();
    this.pruneTimer.clear();
    this.leaderTerm = null;
    this.roster = [];
    this.members = 1;
    this.refusedError = null;
  }

  /** What this member follows, told to the leader (itself included). */
  private info(): MemberInfo {
    return {
      channels: [...this.core.channels],
      positions: this.core.getPositions(),
      types: [...this.core.types],
      hidden: this.core.env.hidden.get(),
    };
  }

  private announce(): void {
    if (this.role === 'leader') this.leader?.join(this.id, this.info());
    else if (this.role === 'follower') this.send({ t: 'join', from: this.id, ...this.info() });
  }

  // ---- the lock ---------------------------------------------------------------------------

  /** Requests a lock held until the callback's release is called (or the member stops). */
  private hold(name: string, granted: (release: () => void) => void): void {
    const run = this.run;
    this.parts.locks
      .request(name, {}, () => {
        if (run !== this.run) return undefined;
        return new Promise<void>((release) => granted(release));
      })
      .catch(() => {});
  }

  /** Queues for the group's lock, or takes it from a silent holder (`steal`). */
  private queue(steal: boolean): void {
    this.queued?.abort();
    this.queued = null;
    const seq = ++this.lockSeq;
    const run = this.run;
    let options: LockOptionsLike;
    if (steal) options = { steal: true };
    else {
      this.queued = new AbortController();
      options = { signal: this.queued.signal };
    }
    this.parts.locks
      .request(this.name, options, () => {
        if (run !== this.run || seq !== this.lockSeq || this.role !== 'follower') return undefined;
        this.queued = null;
        return new Promise<void>((release) => this.lead(release, seq));
      })
      .catch(() => {
        // Taken by a member that found this one silent (a frozen tab that runs again): follow it.
        if (run === this.run && this.role === 'leader' && this.leadSeq === seq) {
          this.stepDown();
          this.queue(false);
        }
      });
  }

  private lead(release: () => void, seq: number): void {
    this.releaseLead = release;
    this.leadSeq = seq;
    this.role = 'leader';
    // Terms grow with the clock: a member that takes the lock from a frozen leader it never
    // heard of still outranks it.
    this.maxTerm = Math.max(this.maxTerm + 1, Math.floor(this.core.env.now()));
    this.leaderTerm = { term: this.maxTerm, id: this.id };
    this.watch.stop();
    this.takeover.clear();
    this.send({ t: 'leader', from: this.id, term: this.maxTerm });
    const leader = new Leader({
      id: this.id,
      options: this.options,
      core: this.core,
      makeEngine: this.makeEngine,
      kit: this.kit,
      event: (event) => this.relayEvent(event),
      resync: (channels, reason) => this.relayResync(channels, reason),
      beat: (body) => {
        this.send({ t: 'beat', from: this.id, term: this.leaderTerm?.term ?? 0, ...body });
        this.follow(body);
      },
      refuse: (id) => this.send({ t: 'alone', from: this.id, to: id }),
    });
    this.leader = leader;
    leader.join(this.id, this.info());
    // The stream opens from the earliest position of the members alive, once they said it.
    const roster = this.roster.filter((id) => id !== this.id);
    void this.alive().then((alive) => {
      if (this.leader !== leader) return;
      leader.gather(alive ? [...alive].filter((id) => id !== this.id) : roster, GATHER_MS);
    });
    this.prune();
    this.publish();
  }

  private stepDown(): void {
    this.leader?.stop();
    this.leader = null;
    this.releaseLead?.();
    this.releaseLead = null;
    this.pruneTimer.clear();
    this.role = 'follower';
    this.lastHeardAt = this.core.env.now();
    this.watch.start();
    this.publish();
  }

  /** Ids of the members whose tab is alive (they hold their member lock), or null if unknown. */
  private async alive(): Promise<Set<string> | null> {
    const query = this.parts.locks.query;
    if (typeof query !== 'function') return null;
    try {
      const snapshot = await query.call(this.parts.locks);
      const prefix = `${this.name} member `;
      const ids = new Set<string>();
      for (const lock of snapshot.held ?? []) {
        if (lock.name?.startsWith(prefix)) ids.add(lock.name.slice(prefix.length));
      }
      return ids;
    } catch {
      return null;
    }
  }

  private prune(): void {
    this.pruneTimer.set(PRUNE_MS, () => {
      const leader = this.leader;
      const before = this.core.env.now() - PRUNE_MS;
      void this.alive().then((alive) => {
        if (alive && this.leader === leader) leader?.retain(alive, before);
      });
      if (this.role === 'leader') this.prune();
    });
  }

  /** No word from the leader for the watchdog's window: take the lock, one follower after another. */
  private silent(): void {
    if (this.role !== 'follower') return;
    const since = this.lastHeardAt;
    const others = this.roster.filter((id) => id !== this.leaderTerm?.id).sort();
    const rank = others.includes(this.id) ? others.indexOf(this.id) : others.length;
    this.takeover.set(rank * TAKEOVER_STAGGER_MS, () => {
      if (this.role === 'follower' && this.lastHeardAt === since) this.queue(true);
    });
    this.watch.start();
  }

  // ---- messages ---------------------------------------------------------------------------

  private send(message: ShareMessage): void {
    try {
      this.channel?.postMessage(wire(message));
    } catch {
      // A closed channel (the page is going away): nothing to tell.
    }
  }

  private receive(data: unknown): void {
    const message = parseMessage(data, this.kit);
    if (!message || message.from === this.id || !this.channel) return;
    try {
      this.handle(message);
    } catch {
      // A message this member cannot act on never breaks the tab.
    }
  }

  private handle(m: ShareMessage): void {
    switch (m.t) {
      case 'join':
        this.leader?.join(m.from, {
          channels: m.channels,
          positions: m.positions,
          types: m.types,
          hidden: m.hidden,
        });
        return;
      case 'leave':
        this.leader?.leave(m.from);
        return;
      case 'reconnect':
        this.leader?.reconnect();
        return;
      case 'alone':
        if (m.to === this.id && this.role === 'follower') this.alone();
        return;
      case 'leader':
        this.heardOf({ term: m.term, id: m.from });
        return;
      case 'beat':
        if (this.heardOf({ term: m.term, id: m.from })) this.follow(m);
        return;
      case 'event':
        if (this.isLeader(m.from, m.term)) this.heard();
        // From any leader (two may run for a moment): the merge drops what was delivered.
        this.core.ingest(m.event as IncomingEvent);
        return;
      case 'resync':
        if (m.channels.some((channel) => this.core.channels.includes(channel))) void this.pollNow();
        return;
    }
  }

  private isLeader(id: string, term: number): boolean {
    return this.leaderTerm !== null && this.leaderTerm.id === id && this.leaderTerm.term === term;
  }

  private heard(): void {
    this.lastHeardAt = this.core.env.now();
    this.watch.touch();
    this.takeover.clear();
  }

  /** A leader spoke: true when it is the one this member follows (or a newer one, now followed). */
  private heardOf(term: Term): boolean {
    this.maxTerm = Math.max(this.maxTerm, term.term);
    if (this.isLeader(term.id, term.term)) {
      this.heard();
      return true;
    }
    if (!newer(term, this.leaderTerm)) return false;
    if (this.role === 'leader') {
      this.stepDown();
      this.queue(false);
    }
    this.leaderTerm = term;
    this.heard();
    // Tell the new leader what this member follows and where it is.
    this.announce();
    this.publish();
    return true;
  }

  /** The leader's heartbeat: its state becomes this client's. */
  private follow(beat: BeatBody): void {
    this.roster = beat.members;
    this.members = Math.max(1, beat.members.length);
    this.publish();
    this.apply(beat);
  }

  // ---- what the group's stream brings -----------------------------------------------------

  private relayEvent(event: IncomingEvent): void {
    this.send({ t: 'event', from: this.id, term: this.leaderTerm?.term ?? 0, event });
    this.core.ingest(event);
  }

  private relayResync(channels: readonly string[], reason: ResyncReason): void {
    this.send({
      t: 'resync',
      from: this.id,
      term: this.leaderTerm?.term ?? 0,
      channels: [...channels],
      reason,
    });
    if (channels.some((channel) => this.core.channels.includes(channel))) void this.pollNow();
  }

  /**
   * The group's state becomes this client's: `open` once the open stream follows all of this
   * client's channels. A stream refused for good is checked by a poll of this client's own.
   */
  private apply({ state, positions, channels }: BeatBody): void {
    const { core } = this;
    const next = fromWireState(state, this.kit);
    if (state.status === 'closed' && next.lastError && sameSet(channels, core.channels)) {
      // The hub refused exactly this client's channels: it stops as it would alone.
      core.fail(next.lastError);
      return;
    }
    if (state.status === 'closed') {
      // The group's stream was refused (400/403/404), maybe for another member's channel. This
      // client asks for its own channels; if refused too, the poll stops it as it would alone.
      const key = `${state.error?.code}:${state.error?.message}`;
      if (this.refusedError !== key) {
        this.refusedError = key;
        void this.pollNow();
      }
      next.status = 'reconnecting';
    } else this.refusedError = null;
    // A stream that does not follow this client's channels yet (the group's stream is being
    // reopened with them) is not this client's stream.
    if (next.status === 'open' && !core.channels.every((channel) => channels.includes(channel))) {
      next.status = 'connecting';
    }
    const current = core.getState();
    const sameError =
      current.lastError?.code === next.lastError?.code &&
      current.lastError?.message === next.lastError?.message;
    core.setState({
      status: next.status,
      polling: next.polling,
      attempt: next.attempt,
      ...(sameError ? {} : { lastError: next.lastError }),
    });
    this.catchUp(positions);
  }

  /**
   * Channels with no position yet start where the group's stream stands. A channel behind it
   * (in the same epoch) missed an event that the stream relayed before this heartbeat — the
   * last of a burst leaves no hole to notice — so the client polls for itself.
   */
  private catchUp(positions: Record<string, Position>): void {
    const { core } = this;
    const own = core.getPositions();
    const missing: Record<string, Position> = {};
    let learn = false;
    let behind = false;
    for (const channel of core.channels) {
      const group = positions[channel];
      const mine = own[channel];
      if (!group) continue;
      if (!mine) {
        missing[channel] = group;
        learn = true;
      } else if (mine.epoch === group.epoch && mine.offset < group.offset) behind = true;
    }
    if (learn) core.learn(missing);
    if (behind) void this.pollNow();
  }

  /** This client's share state, set only when it changed. */
  private publish(): void {
    const share: ShareState =
      this.role === 'leader' || this.role === 'follower'
        ? { role: this.role, members: this.members, id: this.id, leader: this.leaderTerm?.id ?? null }
        : ALONE;
    const current = this.core.getState().share;
    if (
      current.role !== share.role ||
      current.members !== share.members ||
      current.id !== share.id ||
      current.leader !== share.leader
    ) {
      this.core.setState({ share });
    }
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((item) => set.has(item));
}
