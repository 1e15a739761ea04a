/**
 * The protocol folder's door for the package's other folders: everything `tandem/protocol`
 * publishes (`public.ts`), and the internals the server and client share besides: the server's
 * hot-path cursor helpers, empty epochs, and the timer helpers.
 */

export { channelHash, cursorEntry, emptyEpoch, joinCursor, parseEmptyEpoch } from './cursor';
export * from './public';
export { defaultTimers, TimerSlot, unrefTimers } from './timers';
