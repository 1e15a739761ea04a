import { checkNumbers, isValidChannel, MAX_PRESENCE_INFO_BYTES, MAX_TIMER_MS } from '../protocol';

/** What `createHub({ presence })` may say; `true` takes every default. */
export interface PresenceOptions {
  /**
   * Channel patterns with presence (`*` within a segment, `**` across `/`): streams of the
   * others are not counted, and `hub.presence` refuses them.
   * @default ['**'] (every channel)
   */
  channels?: readonly string[];
  /**
   * How long a member's ended stream still counts, in ms: a reload, a reconnect or a stream
   * rotation within it is no leave and no join.
   * @default 5000
   */
  graceMs?: number;
  /** A channel's changes go to its streams at most once per this, in ms (coalesced). @default 1000 */
  intervalMs?: number;
  /** Above this many users a channel's view has counts only, no `members`. @default 100 */
  maxMembers?: number;
  /**
   * The most a grant's `info` may weigh, as JSON in UTF-8 bytes: a larger one is left out (the
   * member counts, without info) and the hub warns once.
   * @default 1024
   */
  maxInfoBytes?: number;
}

/** `PresenceOptions` with every default applied. */
export interface PresenceSettings {
  channels: readonly string[];
  graceMs: number;
  intervalMs: number;
  maxMembers: number;
  maxInfoBytes: number;
}

/** Every presence default, in one place. */
export const PRESENCE_DEFAULTS = {
  graceMs: 5000,
  intervalMs: 1000,
  maxMembers: 100,
  maxInfoBytes: MAX_PRESENCE_INFO_BYTES,
} as const;

/** The hub's presence settings, checked (a wrong value throws at `createHub`); null when off. */
export function resolvePresence(option: boolean | PresenceOptions | undefined): PresenceSettings | null {
  if (option === undefined || option === false) return null;
  if (option !== true && (typeof option !== 'object' || option === null)) {
    throw new TypeError(`presence must be a boolean or an object, got ${String(option)}`);
  }
  const options = option === true ? {} : option;
  checkNumbers('presence', options, {
    graceMs: { max: MAX_TIMER_MS },
    intervalMs: { min: 1, max: MAX_TIMER_MS },
    maxMembers: { integer: true },
    maxInfoBytes: { min: 2, integer: true },
  });
  const channels = options.channels ?? ['**'];
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every(isPattern)) {
    throw new TypeError('presence.channels must be a non-empty list of channel patterns');
  }
  return {
    channels,
    graceMs: options.graceMs ?? PRESENCE_DEFAULTS.graceMs,
    intervalMs: options.intervalMs ?? PRESENCE_DEFAULTS.intervalMs,
    maxMembers: options.maxMembers ?? PRESENCE_DEFAULTS.maxMembers,
    maxInfoBytes: options.maxInfoBytes ?? PRESENCE_DEFAULTS.maxInfoBytes,
  };
}

/** A channel pattern: a channel name, with `*` or `**` segments allowed. */
function isPattern(pattern: unknown): boolean {
  return typeof pattern === 'string' && isValidChannel(pattern.replace(/\*\*?/g, 'x'));
}
