export {
  assertChannel,
  CHANNEL_PATTERN,
  channelMatches,
  isChannelPermitted,
  isValidChannel,
  MAX_CHANNELS_PER_REQUEST,
  parseChannelList,
} from './channel';
export type { DecodedCursor, Position } from './cursor';
export {
  channelHash,
  cursorEntry,
  decodeCursor,
  emptyEpoch,
  encodeCursor,
  isEmptyEpoch,
  isValidEpoch,
  joinCursor,
  MAX_CURSOR_LENGTH,
  newEpoch,
  parseEmptyEpoch,
} from './cursor';
export type { SseFrame } from './encoder';
export { assertFieldValue, encodeComment, encodeFrame, encodeFrameBytes } from './encoder';
export type { ErrorBody, TandemErrorCode, TandemErrorOptions } from './errors';
export { ERROR_STATUS, errorFromResponse, isTandemError, parseRetryAfter, TandemError } from './errors';
export type {
  ByePayload,
  ByeReason,
  ControlEventName,
  EventEnvelope,
  EventMap,
  EventsOf,
  HelloChannel,
  HelloPayload,
  LiveEvent,
  PingHead,
  PingPayload,
  PollResponse,
  ResyncPayload,
  ResyncReason,
} from './messages';
export { CONTROL_EVENTS, isReservedType, RESERVED_TYPE_PREFIX } from './messages';
export type { ParsedEvent, Parser, ParserOptions } from './parser';
export { createParser } from './parser';
export type { TimerHandle, Timers } from './timers';
export { defaultTimers, TimerSlot, unrefTimers } from './timers';
