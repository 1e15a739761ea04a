import type { PresenceEntry } from '../broker';
import type { PresenceMember, PresenceView } from '../protocol';

/**
 * A channel's view from its store entries at `now`: a subject counts its live streams, or, when
 * it has none, the ended ones still in their grace (a reload is no leave). Ended streams past
 * their grace count for nothing. Above `maxMembers` users, counts only.
 */
export function presenceView(
  entries: readonly PresenceEntry[],
  now: number,
  maxMembers: number,
): PresenceView {
  const bySubject = new Map<string, { live: number; ended: number; info?: Record<string, unknown> }>();
  for (const entry of entries) {
    if (entry.until !== undefined && entry.until <= now) continue;
    let member = bySubject.get(entry.subject);
    if (!member) {
      member = { live: 0, ended: 0 };
      bySubject.set(entry.subject, member);
    }
    if (entry.until === undefined) member.live++;
    else member.ended++;
    if (entry.info && (!member.info || entry.until === undefined)) member.info = entry.info;
  }
  let connections = 0;
  const members: PresenceMember[] = [];
  const listed = bySubject.size <= maxMembers;
  for (const [subject, member] of bySubject) {
    const count = member.live > 0 ? member.live : member.ended;
    connections += count;
    if (!listed) continue;
    const out: PresenceMember = { subject, connections: count };
    if (member.info) out.info = member.info;
    members.push(out);
  }
  const view: PresenceView = { users: bySubject.size, connections };
  if (listed) view.members = members;
  return view;
}

/** `info` if it is a plain JSON object within `maxBytes`; else undefined. */
export function presenceInfo(info: unknown, maxBytes: number): Record<string, unknown> | undefined | null {
  if (info === undefined || info === null) return undefined;
  if (typeof info !== 'object' || Array.isArray(info)) return null;
  let json: string;
  try {
    json = JSON.stringify(info);
  } catch {
    return null;
  }
  // Bytes, not characters: a UTF-8 character takes up to 3 bytes per UTF-16 unit.
  if (json.length > maxBytes || new TextEncoder().encode(json).length > maxBytes) return null;
  return JSON.parse(json) as Record<string, unknown>;
}
