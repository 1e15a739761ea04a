/**
 * The protocol folder's door for the package's other folders: everything `tandem/protocol`
 * publishes (`public.ts`), and the internals the server and client share besides: the server's
 * hot-path cursor helpers, the channel and field checks behind the hub's refusals, the mapping
 * of errors to HTTP statuses and back, the reserved event types, the timer helpers, and the
 * check of numeric options.
 */

export { assertChannel, isChannelPermitted } from './channel';
export { checkNumber, checkNumbers, MAX_TIMER_MS, type NumberRule } from './check-number';
export { channelHash, cursorEntry, joinCursor } from './cursor';
export { assertFieldValue } from './encoder';
export { ERROR_STATUS, errorFromResponse, parseRetryAfter } from './errors';
export { CONTROL_EVENTS, isReservedType, RESERVED_TYPE_PREFIX } from './messages';
export * from './public';
export { defaultTimers, TimerSlot, unrefTimers } from './timers';
