import type { TimerSlot } from '../../protocol';
import type { LockManagerLike, LockOptionsLike } from './platform';

/** Followers that all find the leader silent take over one after another, this far apart. */
export const TAKEOVER_STAGGER_MS = 250;

/** What the election tells the member it runs for. */
export interface ElectionHost {
  /** Whether the member may take the lead now (it follows): a grant that comes too late is given back. */
  mayLead(): boolean;
  /** The group's lock was granted: this member leads until it resigns or is deposed. */
  elected(): void;
  /** The lock was taken from this leader by a member that found it silent: it follows again. */
  deposed(): void;
}

/**
 * Where a follower that finds the leader silent stands in line to take over: followers are
 * ranked by id (the silent leader left out), so that they do not all steal the lock at once.
 */
export function takeoverRank(id: string, roster: readonly string[], leader: string | null): number {
  const others = roster.filter((member) => member !== leader).sort();
  const rank = others.indexOf(id);
  return rank === -1 ? others.length : rank;
}

/**
 * The group's election by Web Locks: the member holding the group's lock leads. Each member
 * also holds a lock of its own while it runs (`<group> member <id>`), so that a leader tells the
 * members whose tab is gone by their released lock (`alive`). A follower queues for the group's
 * lock; one that finds the leader silent takes it from the holder (`takeOver`). One election
 * serves one membership: after `stop` it never leads again.
 */
export class Election {
  readonly #locks: LockManagerLike;
  readonly #name: string;
  readonly #id: string;
  readonly #host: ElectionHost;
  readonly #takeover: TimerSlot;
  #stopped = false;
  /** Bumped by every request for the group's lock: a grant for an older one is given back. */
  #seq = 0;
  /** The request under which this member leads. */
  #leadSeq = 0;
  #queued: AbortController | null = null;
  #releaseLead: (() => void) | null = null;
  #releaseMember: (() => void) | null = null;

  constructor(locks: LockManagerLike, name: string, id: string, host: ElectionHost, takeover: TimerSlot) {
    this.#locks = locks;
    this.#name = name;
    this.#id = id;
    this.#host = host;
    this.#takeover = takeover;
  }

  /** Holds the member's own lock and queues for the group's. */
  start(): void {
    this.#locks
      .request(`${this.#name} member ${this.#id}`, {}, () => {
        if (this.#stopped) return undefined;
        return new Promise<void>((release) => {
          this.#releaseMember = release;
        });
      })
      .catch(() => {});
    this.#request(false);
  }

  /** Gives the group's lock back (a newer leader spoke) and queues for it again. */
  resign(): void {
    this.#releaseLead?.();
    this.#releaseLead = null;
    this.#request(false);
  }

  /**
   * The leader fell silent: after `rank` staggers, unless `heard` came first, takes the lock
   * from it.
   */
  takeOver(rank: number): void {
    this.#takeover.set(rank * TAKEOVER_STAGGER_MS, () => {
      if (!this.#stopped && this.#host.mayLead()) this.#request(true);
    });
  }

  /** The leader spoke: a planned takeover is called off. */
  heard(): void {
    this.#takeover.clear();
  }

  /** Ids of the members whose tab is alive (they hold their member lock), or null if unknown. */
  async alive(): Promise<Set<string> | null> {
    const locks = this.#locks;
    if (typeof locks.query !== 'function') return null;
    try {
      const snapshot = await locks.query();
      const prefix = `${this.#name} member `;
      const ids = new Set<string>();
      for (const lock of snapshot.held ?? []) {
        if (lock.name?.startsWith(prefix)) ids.add(lock.name.slice(prefix.length));
      }
      return ids;
    } catch {
      return null;
    }
  }

  /** Releases every lock and request; nothing this election was granted counts any more. */
  stop(): void {
    this.#stopped = true;
    this.#releaseLead?.();
    this.#releaseLead = null;
    this.#queued?.abort();
    this.#queued = null;
    this.#releaseMember?.();
    this.#releaseMember = null;
    this.#takeover.clear();
  }

  /** Queues for the group's lock, or takes it from a silent holder (`steal`). */
  #request(steal: boolean): void {
    this.#queued?.abort();
    this.#queued = null;
    const seq = ++this.#seq;
    let options: LockOptionsLike;
    if (steal) options = { steal: true };
    else {
      this.#queued = new AbortController();
      options = { signal: this.#queued.signal };
    }
    this.#locks
      .request(this.#name, options, () => {
        if (this.#stopped || seq !== this.#seq || !this.#host.mayLead()) return undefined;
        this.#queued = null;
        this.#takeover.clear();
        return new Promise<void>((release) => {
          this.#releaseLead = release;
          this.#leadSeq = seq;
          this.#host.elected();
        });
      })
      .catch(() => {
        // Taken by a member that found this one silent (a frozen tab that runs again): follow it.
        if (!this.#stopped && this.#releaseLead && this.#leadSeq === seq) {
          this.#releaseLead = null;
          this.#host.deposed();
          this.#request(false);
        }
      });
  }
}
