import type { ShareState } from '../types';

/** Where a member stands: `pending` while it learns its group, `alone` on a stream of its own. */
export type Role = 'off' | 'pending' | 'alone' | 'follower' | 'leader';

const ALONE: ShareState = { role: 'alone', members: 1, id: '', leader: null };

/** The share state a client shows for its member's role; every role but the two in a group is `alone`. */
export function shareState(role: Role, members: number, id: string, leader: string | null): ShareState {
  return role === 'leader' || role === 'follower' ? { role, members, id, leader } : ALONE;
}

/** Whether two share states say the same: an equal one is not set again (no state change to tell). */
export function sameShare(a: ShareState, b: ShareState): boolean {
  return a.role === b.role && a.members === b.members && a.id === b.id && a.leader === b.leader;
}
