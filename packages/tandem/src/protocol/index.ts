/**
 * The protocol folder's door for the package's other folders: everything `tandem/protocol`
 * publishes (`public.ts`), and the internals the server and client share besides: the server's
 * hot-path cursor helpers, the timer helpers, and the check of numeric options.
 */

export { checkNumber, checkNumbers, MAX_TIMER_MS, type NumberRule } from './check-number';
export { channelHash, cursorEntry, joinCursor } from './cursor';
export * from './public';
export { defaultTimers, TimerSlot, unrefTimers } from './timers';
