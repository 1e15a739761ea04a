import type { Signal } from '../environment';

/** A `Signal` its owner sets: listeners hear each change, once, in the order they subscribed. */
export class FlagSignal implements Signal {
  #value: boolean;
  readonly #listeners = new Set<(value: boolean) => void>();

  constructor(value: boolean) {
    this.#value = value;
  }

  get(): boolean {
    return this.#value;
  }

  subscribe(listener: (value: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  set(value: boolean): void {
    if (value === this.#value) return;
    this.#value = value;
    for (const listener of [...this.#listeners]) listener(value);
  }
}
