/**
 * The published `tandem/protocol`: the wire format for users (encoder, parser, cursor codec,
 * channel rules, errors, message types). The folder's `index.ts` also carries the server's
 * hot-path cursor helpers, for the other folders of the package only.
 */
export {
  assertChannel,
  CHANNEL_PATTERN,
  channelMatches,
  isChannelPermitted,
  isValidChannel,
  MAX_CHANNELS_PER_REQUEST,
  parseChannelList,
} from './channel';
export type { CompactEvent } from './compact';
export { COMPACT_WIRE, encodeCompactFrame, parseCompactData, WIRE_PARAM } from './compact';
export type { DecodedCursor, Position } from './cursor';
export {
  decodeCursor,
  emptyEpoch,
  encodeCursor,
  isEmptyEpoch,
  isValidEpoch,
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
  EpochPayload,
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
export type { PresenceMember, PresencePayload, PresenceView } from './presence';
export { MAX_PRESENCE_INFO_BYTES, PRESENCE_EVENT } from './presence';
export type { TimerHandle, Timers } from './timers';
