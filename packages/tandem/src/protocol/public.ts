/**
 * The published `tandem/protocol`: the wire format for users (encoder, parser, cursor codec,
 * channel rules, errors, message types). The folder's `index.ts` also carries what only the
 * package's own server and client use (the hot-path cursor helpers, the checks behind the hub's
 * refusals, the mapping of errors to HTTP and back), for its other folders only.
 */
export {
  CHANNEL_PATTERN,
  channelMatches,
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
export { encodeComment, encodeFrame, encodeFrameBytes } from './encoder';
export type { ErrorBody, TandemErrorCode, TandemErrorOptions } from './errors';
export { isTandemError, TandemError } from './errors';
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
export { CONTROL_EVENTS } from './messages';
export type { ParsedEvent, Parser, ParserOptions } from './parser';
export { createParser } from './parser';
export type { PresenceMember, PresencePayload, PresenceView } from './presence';
export { MAX_PRESENCE_INFO_BYTES, PRESENCE_EVENT } from './presence';
export type { TimerHandle, Timers } from './timers';
