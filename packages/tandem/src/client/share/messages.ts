import type { Position, ResyncReason, TandemErrorCode } from '../../protocol';
import type { IncomingEvent } from '../merge';
import type { ConnectionStatus, LiveState } from '../types';
import type { ShareKit } from './core';

/**
 * The messages tabs of one group exchange over their BroadcastChannel. Every message carries the
 * protocol version and its sender; anything else on the channel (another version, a malformed or
 * foreign message) is ignored by `parseMessage`.
 */
export const SHARE_PROTOCOL = 1;

/** A leader's term: the higher term leads; equal terms are ordered by the leader's id. */
export interface Term {
  term: number;
  id: string;
}

/** The group stream's state as relayed to every tab. */
export interface WireState {
  status: ConnectionStatus;
  polling: boolean;
  attempt: number;
  error: { code: TandemErrorCode; message: string } | null;
}

/** What a leader's heartbeat says. */
export interface BeatBody {
  state: WireState;
  /** Where the group's stream stands: members start there on channels they have no position for. */
  positions: Record<string, Position>;
  members: string[];
  /** The channels of the stream whose state this is (a member is `open` once its own are in). */
  channels: string[];
}

/** What a member follows and where it stands, as it tells its leader (`join`). */
export interface MemberInfo {
  channels: readonly string[];
  positions: Record<string, Position>;
  types: readonly string[];
  hidden: boolean;
}

export type ShareMessage =
  /** A member is here, with what it follows: sent on start, to each new leader, on changes. */
  | ({ t: 'join'; from: string } & MemberInfo)
  /** A member stops (it leaves the group). */
  | { t: 'leave'; from: string }
  /** A new leader took the group's lock: members answer with `join`. */
  | { t: 'leader'; from: string; term: number }
  /** The leader's heartbeat: the stream's state, its positions and the group's members. */
  | ({ t: 'beat'; from: string; term: number } & BeatBody)
  /** One event the group's stream or poller brought (members drop channels they do not follow). */
  | { t: 'event'; from: string; term: number; event: IncomingEvent }
  /** The group's stream reported lost continuity on these channels: members check their own. */
  | { t: 'resync'; from: string; term: number; channels: string[]; reason: ResyncReason }
  /** A member asks the leader to reconnect the stream (`client.reconnect()`). */
  | { t: 'reconnect'; from: string }
  /** The group cannot take this member (its channels would exceed a request's limit): run alone. */
  | { t: 'alone'; from: string; to: string };

/** Sends `message` with the protocol version. */
export function wire(message: ShareMessage): ShareMessage & { v: number } {
  return { v: SHARE_PROTOCOL, ...message };
}

const STATUSES: ReadonlySet<string> = new Set(['idle', 'connecting', 'open', 'reconnecting', 'closed']);
const REASONS: ReadonlySet<string> = new Set(['retention', 'epoch', 'cursor', 'gap']);

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isId = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= 64;
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isStrings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.length <= 1024 && value.every((item) => typeof item === 'string');

function isPositions(
  value: unknown,
  isValidEpoch: ShareKit['isValidEpoch'],
): value is Record<string, Position> {
  if (!isObject(value)) return false;
  for (const position of Object.values(value)) {
    if (!isObject(position) || !isValidEpoch(position.epoch) || !isCount(position.offset)) return false;
  }
  return true;
}

function isWireState(value: unknown): value is WireState {
  if (!isObject(value)) return false;
  const { status, polling, attempt, error } = value;
  if (!STATUSES.has(status as string) || typeof polling !== 'boolean' || !isCount(attempt)) return false;
  return (
    error === null || (isObject(error) && typeof error.code === 'string' && typeof error.message === 'string')
  );
}

function isEvent(value: unknown, isValidEpoch: ShareKit['isValidEpoch']): value is IncomingEvent {
  if (!isObject(value)) return false;
  const { channel, type, epoch, offset, ts, source } = value;
  return (
    typeof channel === 'string' &&
    typeof type === 'string' &&
    isValidEpoch(epoch) &&
    Number.isSafeInteger(offset) &&
    (offset as number) >= 1 &&
    typeof ts === 'number' &&
    (source === 'stream' || source === 'poll') &&
    'data' in value
  );
}

/**
 * The message in `data`, or null when it is not one of this protocol's, well formed. Never
 * throws. `kit` gives the protocol's epoch rule (see `ShareKit`).
 */
export function parseMessage(
  data: unknown,
  { isValidEpoch }: Pick<ShareKit, 'isValidEpoch'>,
): ShareMessage | null {
  if (!isObject(data) || data.v !== SHARE_PROTOCOL || !isId(data.from)) return null;
  const m = data;
  switch (m.t) {
    case 'join':
      return isStrings(m.channels) &&
        isPositions(m.positions, isValidEpoch) &&
        isStrings(m.types) &&
        typeof m.hidden === 'boolean'
        ? (m as ShareMessage)
        : null;
    case 'leave':
    case 'reconnect':
      return m as ShareMessage;
    case 'alone':
      return isId(m.to) ? (m as ShareMessage) : null;
    case 'leader':
      return isCount(m.term) ? (m as ShareMessage) : null;
    case 'beat':
      return isCount(m.term) &&
        isWireState(m.state) &&
        isPositions(m.positions, isValidEpoch) &&
        isStrings(m.members) &&
        isStrings(m.channels)
        ? (m as ShareMessage)
        : null;
    case 'event':
      return isCount(m.term) && isEvent(m.event, isValidEpoch) ? (m as ShareMessage) : null;
    case 'resync':
      return isCount(m.term) && isStrings(m.channels) && REASONS.has(m.reason as string)
        ? (m as ShareMessage)
        : null;
    default:
      return null;
  }
}

/** Whether term `a` is newer than `b`. */
export function newer(a: Term, b: Term | null): boolean {
  if (!b) return true;
  return a.term !== b.term ? a.term > b.term : a.id > b.id;
}

export function toWireState(state: LiveState): WireState {
  const { lastError } = state;
  return {
    status: state.status,
    polling: state.polling,
    attempt: state.attempt,
    error: lastError ? { code: lastError.code, message: lastError.message } : null,
  };
}

export function fromWireState(
  state: WireState,
  { TandemError }: Pick<ShareKit, 'TandemError'>,
): Pick<LiveState, 'status' | 'polling' | 'attempt' | 'lastError'> {
  return {
    status: state.status,
    polling: state.polling,
    attempt: state.attempt,
    lastError: state.error ? new TandemError(state.error.code, state.error.message) : null,
  };
}
