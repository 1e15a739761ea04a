import { newer, type Term } from './messages';

/**
 * The leaders' terms a member has seen: the leader it follows, and the term it claims when it
 * leads. The higher term leads (equal terms are ordered by the leader's id), so that two tabs
 * that both believe they lead for a moment agree on one as soon as they hear each other.
 */
export class Terms {
  #followed: Term | null = null;
  #max = 0;

  /** The id of the leader followed (this member's own while it leads), or null. */
  get leader(): string | null {
    return this.#followed?.id ?? null;
  }

  /** Whether `id` leads under `term` as the leader followed. */
  follows(id: string, term: number): boolean {
    const followed = this.#followed;
    return followed !== null && followed.id === id && followed.term === term;
  }

  /**
   * A leader spoke: `followed` when it is the one followed, `newer` when it outranks it (and is
   * now followed), null when it is an older one.
   */
  heard(term: Term): 'followed' | 'newer' | null {
    this.#max = Math.max(this.#max, term.term);
    if (this.follows(term.id, term.term)) return 'followed';
    if (!newer(term, this.#followed)) return null;
    this.#followed = term;
    return 'newer';
  }

  /**
   * This member leads, under a term above every one it saw. Terms grow with the clock: a member
   * that takes the lock from a frozen leader it never heard of still outranks it.
   */
  claim(id: string, now: number): number {
    this.#max = Math.max(this.#max + 1, Math.floor(now));
    this.#followed = { term: this.#max, id };
    return this.#max;
  }

  /** The member left its group: it follows no one until a leader speaks. */
  forget(): void {
    this.#followed = null;
  }
}
