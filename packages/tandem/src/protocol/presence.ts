/**
 * Presence on the wire: who follows a channel. A hub with presence sends `tandem:presence` on
 * the stream, in order with the channel's events: a snapshot right after `tandem:hello`, then
 * the channel's view again whenever it changed (coalesced, at most once per interval).
 */

/** The control event that carries a channel's presence (`PresencePayload`). */
export const PRESENCE_EVENT = 'tandem:presence';

/** The most a member's `info` may weigh, as JSON (UTF-8 bytes), unless the hub says otherwise. */
export const MAX_PRESENCE_INFO_BYTES = 1024;

/** One member of a channel: a grant's subject, with the `info` its authorizer returned. */
export interface PresenceMember {
  subject: string;
  /** A small JSON object (a name, an avatar): absent when the grant had none. */
  info?: Record<string, unknown>;
  /** Its open streams on the channel (a browser sharing one stream across tabs counts once). */
  connections: number;
}

/** Who is on a channel. */
export interface PresenceView {
  /** Distinct subjects. */
  users: number;
  /** Their streams. */
  connections: number;
  /** Every member, in the order they joined; left out above the hub's `maxMembers` (counts only). */
  members?: PresenceMember[];
}

/** `tandem:presence`: a channel's view, at `version` of the channel's presence. */
export interface PresencePayload extends PresenceView {
  channel: string;
  /** Grows with every change of the channel's presence in its store. */
  version: number;
  /** The stream's first view of the channel (after its hello): it replaces whatever came before. */
  snapshot?: true;
}
