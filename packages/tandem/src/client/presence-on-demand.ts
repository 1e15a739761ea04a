import type { PresencePayload } from '../protocol';
import type { LivePresence, PresenceListener, PresenceViews } from './presence';
import type { StateStore } from './state';

/** A channel's view before the server's first: what `PresenceViews` says of an unknown channel too. */
const UNKNOWN: LivePresence = Object.freeze({ users: 0, connections: 0, synced: false });

/**
 * The client's presence, loaded on demand: the views (`client/presence.ts`, a chunk of its own
 * in an app's bundle) load at the first `tandem:presence` the stream brings or the first
 * `onPresence`, so that a client of a hub without presence never loads them. Until then every
 * channel is unknown (`synced: false`), as before the server's first view. If the chunk cannot
 * load, presence stays unknown; events are not affected.
 */
export class PresenceOnDemand {
  #views: PresenceViews | null = null;
  /** What waits for the views; null once they failed to load. */
  #waiting: Array<(views: PresenceViews) => void> | null = [];
  /** Views the stream sent while the views loaded, in order. */
  #payloads: PresencePayload[] = [];
  #loading = false;

  readonly #state: StateStore;

  constructor(state: StateStore) {
    this.#state = state;
    // The stream dropped before the views loaded: what it said is no longer current, and the
    // next stream sends its own snapshot.
    state.subscribe((now) => {
      if (now.status !== 'open') this.#payloads = [];
    });
  }

  view(channel: string): LivePresence {
    return this.#views ? this.#views.view(channel) : UNKNOWN;
  }

  on(channel: string, listener: PresenceListener): () => void {
    let off: (() => void) | null = null;
    let gone = false;
    this.#use((views) => {
      if (!gone) off = views.on(channel, listener);
    });
    return () => {
      gone = true;
      off?.();
    };
  }

  apply(payload: PresencePayload): void {
    if (this.#views) this.#views.apply(payload);
    else if (this.#waiting) {
      this.#payloads.push(payload);
      this.#load();
    }
  }

  #use(then: (views: PresenceViews) => void): void {
    if (this.#views) then(this.#views);
    else if (this.#waiting) {
      this.#waiting.push(then);
      this.#load();
    }
  }

  #load(): void {
    if (this.#loading) return;
    this.#loading = true;
    import('./presence').then(
      ({ PresenceViews }) => {
        const views = new PresenceViews(this.#state);
        this.#views = views;
        for (const then of this.#waiting ?? []) then(views);
        for (const payload of this.#payloads) views.apply(payload);
        this.#waiting = null;
        this.#payloads = [];
      },
      () => {
        this.#waiting = null;
        this.#payloads = [];
      },
    );
  }
}
