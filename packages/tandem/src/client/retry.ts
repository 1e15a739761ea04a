import type { ByePayload, TandemError as TandemErrorType } from '../protocol';
import { TandemError } from '../protocol';
import { backoffDelay, jittered, type ResolvedBackoffOptions } from './backoff';

/** Errors after which retrying cannot help: the client stops. */
const FATAL_CODES: ReadonlySet<string> = new Set([
  'bad_request',
  'invalid_channel',
  'forbidden',
  'not_found',
  'method_not_allowed',
]);

export function isFatal(error: TandemErrorType): boolean {
  return FATAL_CODES.has(error.code);
}

export function isAuthError(error: TandemErrorType): boolean {
  return error.code === 'unauthorized' || error.code === 'token_expired';
}

/** What the client knows when a stream ends. */
export interface DropContext {
  /** Consecutive failed attempts before this one. */
  attempt: number;
  /** Whether the stream had opened (said hello) before it ended. */
  wasOpen: boolean;
  /** The pause after the server refused the token again and again (`TokenProvider.pause`), or null. */
  pause?: TandemErrorType | null;
}

/** Stop, or retry after `delayMs`, reporting `error` instead of the one that ended the stream if given. */
export type RetryDecision = { kind: 'stop' } | { kind: 'retry'; delayMs: number; error?: TandemErrorType };

/**
 * What to do after a stream ended with `error`: stop for good (the request itself is wrong),
 * or retry after a delay. Pure: the same inputs give the same answer.
 */
export function retryDecision(
  error: TandemErrorType,
  drop: DropContext,
  backoff: ResolvedBackoffOptions,
  random: () => number,
): RetryDecision {
  if (isFatal(error)) return { kind: 'stop' };
  // Refused again and again (logged out, no token): no attempt before the pause ends, and the
  // app is told why.
  const { pause } = drop;
  if (pause) {
    return {
      kind: 'retry',
      delayMs: (pause.retryAfterMs ?? 0) + backoffDelay(drop.attempt, backoff, random),
      error: pause,
    };
  }
  // The watchdog's verdict: the connection is dead, reconnect at once.
  if (error.code === 'timeout') return { kind: 'retry', delayMs: 0 };
  if (error.retryAfterMs !== undefined) {
    return { kind: 'retry', delayMs: error.retryAfterMs + backoffDelay(drop.attempt, backoff, random) };
  }
  // A stable stream dropped: likely every client of this server at the same instant.
  if (drop.wasOpen && drop.attempt === 0) {
    return { kind: 'retry', delayMs: jittered(backoff.dropWindowMs, backoff, random) };
  }
  return { kind: 'retry', delayMs: backoffDelay(drop.attempt, backoff, random) };
}

/** A `tandem:bye`: the error it stands for, and when to come back (spread over its window). */
export function byeRetry(
  bye: ByePayload | null,
  backoff: ResolvedBackoffOptions,
  random: () => number,
): { error: TandemErrorType; delayMs: number } {
  const reason = bye?.reason ?? 'server_closed';
  // A bye is the server's decision, not a failing network: the app sees which.
  const code =
    reason === 'shutdown'
      ? 'shutting_down'
      : reason === 'token_expired' || reason === 'slow_consumer'
        ? reason
        : 'server_closed';
  const error = new TandemError(code, `the server ended the stream (${reason})`);
  // A bye reaches every client of a server at once: spread the returns.
  const window = bye?.reconnectMs ?? backoff.dropWindowMs;
  return { error, delayMs: jittered(window, backoff, random) };
}
