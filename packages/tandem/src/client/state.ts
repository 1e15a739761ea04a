import type { LiveState } from './types';

export const INITIAL_STATE: LiveState = {
  status: 'idle',
  polling: false,
  attempt: 0,
  lastError: null,
  lastEventAt: null,
  share: { role: 'alone', members: 1, id: '', leader: null },
};

/** The client's public state: a new object on every change, listeners told synchronously. */
export class StateStore {
  #state: LiveState = INITIAL_STATE;
  readonly #listeners = new Set<(state: LiveState) => void>();

  get(): LiveState {
    return this.#state;
  }

  set(patch: Partial<LiveState>): void {
    let changed = false;
    for (const key of Object.keys(patch) as Array<keyof LiveState>) {
      if (this.#state[key] !== patch[key]) changed = true;
    }
    if (!changed) return;
    this.#state = { ...this.#state, ...patch };
    for (const listener of [...this.#listeners]) listener(this.#state);
  }

  subscribe(listener: (state: LiveState) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }
}
