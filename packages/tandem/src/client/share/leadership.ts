import type { TimerSlot } from '../../protocol';
import type { ShareContext } from './core';
import type { Election } from './election';
import { Leader } from './leader';
import type { BeatBody, MemberInfo, ShareMessage } from './messages';

/** A new leader waits this long at most for the members alive to say where they are. */
const GATHER_MS = 200;
/** How often the leader drops members whose tab is gone (their member lock was released). */
const PRUNE_MS = 2_000;

/** What an elected member hands to its leadership. */
export interface LeadershipHost extends ShareContext {
  readonly id: string;
  readonly term: number;
  readonly election: Election;
  /** The members heard of last: asked where they are when the locks cannot tell who is alive. */
  readonly roster: readonly string[];
  send(message: ShareMessage): void;
  /** The leader's heartbeat, which its own member follows as the others do. */
  follow(beat: BeatBody): void;
  /** The group's stream lost continuity on these channels. */
  resynced(channels: readonly string[]): void;
}

/**
 * One member's time as the group's leader, under one term: it tells the group, runs the group's
 * stream (`Leader`) and relays what the stream brings to the other tabs and to its own client.
 * The stream opens once the members alive said where they are; members whose tab is gone are
 * dropped every `PRUNE_MS`.
 */
export class Leadership {
  readonly leader: Leader;
  readonly #host: LeadershipHost;
  readonly #prune: TimerSlot;
  #stopped = false;

  constructor(host: LeadershipHost, info: MemberInfo) {
    this.#host = host;
    const { id, term, core } = host;
    this.#prune = new host.kit.TimerSlot(core.env.timers);
    host.send({ t: 'leader', from: id, term });
    const leader = new Leader({
      id,
      options: host.options,
      core,
      makeEngine: host.makeEngine,
      kit: host.kit,
      event: (event) => {
        host.send({ t: 'event', from: id, term, event });
        core.ingest(event);
      },
      resync: (channels, reason) => {
        host.send({ t: 'resync', from: id, term, channels: [...channels], reason });
        host.resynced(channels);
      },
      beat: (body) => {
        host.send({ t: 'beat', from: id, term, ...body });
        host.follow(body);
      },
      refuse: (to) => host.send({ t: 'alone', from: id, to }),
    });
    this.leader = leader;
    leader.join(id, info);
    // The stream opens from the earliest position of the members alive, once they said it.
    const others = (ids: Iterable<string>) => [...ids].filter((other) => other !== id);
    const roster = others(host.roster);
    void host.election.alive().then((alive) => {
      if (!this.#stopped) leader.gather(alive ? others(alive) : roster, GATHER_MS);
    });
    this.#schedulePrune();
  }

  stop(): void {
    this.#stopped = true;
    this.leader.stop();
    this.#prune.clear();
  }

  #schedulePrune(): void {
    this.#prune.set(PRUNE_MS, () => {
      const before = this.#host.core.env.now() - PRUNE_MS;
      void this.#host.election.alive().then((alive) => {
        if (alive && !this.#stopped) this.leader.retain(alive, before);
      });
      this.#schedulePrune();
    });
  }
}
