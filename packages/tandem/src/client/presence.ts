import type { PresenceMember, PresencePayload, PresenceView } from '../protocol';
import type { LiveState } from './types';

/** A channel's presence as the client sees it. */
export interface LivePresence extends PresenceView {
  /**
   * Whether this is the server's current view: false until the stream's first view of the
   * channel arrives, and again from when the stream drops until the next one does (the counts
   * are then the last known, not the current ones).
   */
  synced: boolean;
}

/** Who joined and who left with a change (by subject; empty for a counts-only view). */
export interface PresenceChange {
  joined: PresenceMember[];
  left: PresenceMember[];
}

export type PresenceListener = (view: LivePresence, change: PresenceChange) => void;

const UNKNOWN: LivePresence = Object.freeze({ users: 0, connections: 0, synced: false });
const NO_CHANGE: PresenceChange = Object.freeze({ joined: [], left: [] }) as PresenceChange;

/**
 * The client's presence views, one per channel, fed by `tandem:presence` from the stream: a
 * snapshot replaces the view, a later version updates it, an older one is dropped. A new
 * object on every change, so `useSyncExternalStore` can read it.
 */
export class PresenceViews {
  readonly #views = new Map<string, LivePresence>();
  /** The version of each view, to drop an older one that arrives late. */
  readonly #versions = new Map<string, number>();
  readonly #listeners = new Map<string, Set<PresenceListener>>();

  constructor(state: { subscribe(listener: (state: LiveState) => void): () => void }) {
    // The stream dropped: what the views say is no longer known to be current.
    state.subscribe((now) => {
      if (now.status === 'open') return;
      for (const [channel, view] of this.#views) {
        if (view.synced) this.#set(channel, { ...view, synced: false }, NO_CHANGE);
      }
    });
  }

  /** The channel's current view (the same object until it changes). */
  readonly view = (channel: string): LivePresence => this.#views.get(channel) ?? UNKNOWN;

  /** Calls `listener` on every change of the channel's view; returns the unsubscribe function. */
  readonly on = (channel: string, listener: PresenceListener): (() => void) => {
    const set = this.#listeners.get(channel) ?? new Set();
    this.#listeners.set(channel, set);
    set.add(listener);
    return () => void set.delete(listener);
  };

  apply(payload: PresencePayload): void {
    if (!payload || typeof payload.channel !== 'string' || !Number.isSafeInteger(payload.version)) return;
    const held = this.#views.get(payload.channel);
    if (!payload.snapshot && (!held?.synced || payload.version < this.#versions.get(payload.channel)!))
      return;
    this.#versions.set(payload.channel, payload.version);
    const view: LivePresence = {
      users: Number(payload.users) || 0,
      connections: Number(payload.connections) || 0,
      synced: true,
    };
    if (Array.isArray(payload.members)) view.members = payload.members;
    this.#set(payload.channel, view, changeOf(held?.members, view.members));
  }

  #set(channel: string, view: LivePresence, change: PresenceChange): void {
    this.#views.set(channel, view);
    for (const listener of [...(this.#listeners.get(channel) ?? [])]) listener(view, change);
  }
}

function changeOf(before: PresenceMember[] | undefined, after: PresenceMember[] | undefined): PresenceChange {
  if (!before || !after) return NO_CHANGE;
  const had = new Set(before.map((member) => member.subject));
  const has = new Set(after.map((member) => member.subject));
  return {
    joined: after.filter((member) => !had.has(member.subject)),
    left: before.filter((member) => !has.has(member.subject)),
  };
}
