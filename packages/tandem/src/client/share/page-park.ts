import type { ClientCore } from './core';

/** What a member does when its page is put away and when it is back. */
export interface Parkable {
  /** Whether the member is in a group, or joining one (a client alone keeps its own stream). */
  readonly grouped: boolean;
  leave(): void;
  join(): void;
}

/**
 * A page put away (into the back/forward cache, or frozen) leaves its group at once, so that
 * another tab takes the stream over without waiting for the heartbeat to fall silent and the
 * page holds no lock that keeps it out of the cache; back, it joins again from its positions.
 * Returns the function that stops watching.
 */
export function parkWithPage(core: ClientCore, member: Parkable): () => void {
  let parked = false;
  return core.env.frozen.subscribe((frozen) => {
    if (frozen && member.grouped && core.started) {
      parked = true;
      member.leave();
      core.setState({ status: 'idle', polling: false });
    } else if (!frozen && parked && core.started) {
      parked = false;
      core.setState({ status: 'connecting' });
      member.join();
    }
  });
}
