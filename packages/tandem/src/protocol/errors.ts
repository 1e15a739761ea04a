/**
 * Every failure Tandem reports is a `TandemError` with a stable `code`. The same codes travel
 * on the wire (`{ error: { code, message } }`) and appear in the client's state, so an app can
 * branch on them without parsing messages.
 */
export type TandemErrorCode =
  /** 400: bad channels or parameters. The client stops: retrying cannot help. */
  | 'bad_request'
  /** 401: no or invalid credentials. The client refreshes its token, then retries. */
  | 'unauthorized'
  /** 403: a requested channel is not permitted. The client stops. */
  | 'forbidden'
  /** 404: no such endpoint under the base path. */
  | 'not_found'
  /** 405: only GET (and OPTIONS for CORS) are served. */
  | 'method_not_allowed'
  /** 429: too many connections; honour `Retry-After`. */
  | 'too_many_connections'
  /** 503: the server is shutting down; retry (elsewhere). */
  | 'shutting_down'
  /** 500: the server failed; retry with backoff. */
  | 'internal'
  /** 503: the broker (e.g. Redis) cannot be reached; publish is refused, never dropped. */
  | 'broker_unavailable'
  /** A frame field (event type, id) would allow field injection: it contains CR, LF or NUL. */
  | 'invalid_field'
  /** A channel name breaks the rules of `isValidChannel`. */
  | 'invalid_channel'
  /** Published data did not pass the event's Standard Schema validator. */
  | 'validation_failed'
  /** The SSE parser met a line or event larger than its `maxEventBytes`. */
  | 'event_too_large'
  /** 413: `publish` refused data whose JSON is larger than the hub's `maxEventBytes`. */
  | 'payload_too_large'
  /** 415: the publish endpoint takes `application/json` only. */
  | 'unsupported_media_type'
  /** Client side: the network failed or the response was not an event stream. */
  | 'network'
  /** Client side: the heartbeat watchdog saw no byte in time. */
  | 'timeout'
  /** Client side: the server ended the stream (`tandem:bye` `server_closed`, e.g. `hub.disconnect`). */
  | 'server_closed'
  /** Client side: the server cut the stream, which read too slowly (`tandem:bye` `slow_consumer`). */
  | 'slow_consumer'
  /** The server ended the stream because the connection's token expired. */
  | 'token_expired';

/** HTTP status for each error code that can appear on the wire. */
export const ERROR_STATUS: Readonly<Partial<Record<TandemErrorCode, number>>> = {
  bad_request: 400,
  invalid_channel: 400,
  unauthorized: 401,
  token_expired: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_connections: 429,
  internal: 500,
  shutting_down: 503,
  broker_unavailable: 503,
};

const WIRE_CODES = new Set<string>(Object.keys(ERROR_STATUS));

export interface TandemErrorOptions {
  /** HTTP status, when the error came from (or goes onto) the wire. */
  status?: number;
  /** Milliseconds to wait before retrying (`Retry-After`). */
  retryAfterMs?: number;
  cause?: unknown;
}

export class TandemError extends Error {
  override readonly name = 'TandemError';
  readonly code: TandemErrorCode;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: TandemErrorCode, message: string, options: TandemErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? ERROR_STATUS[code];
    this.retryAfterMs = options.retryAfterMs;
  }

  /** The JSON body sent on the wire for this error. */
  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: TandemErrorCode; message: string };
}

/**
 * Whether `value` is a TandemError: an instance of this class, or of another copy of this module
 * (a hub kept on globalThis across a dev reload, the ES module and CommonJS builds side by side),
 * recognised by its name and a known code. The one way Tandem recognises its errors.
 */
export function isTandemError(value: unknown): value is TandemError {
  if (value instanceof TandemError) return true;
  const e = value as { name?: unknown; code?: unknown } | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.name === 'TandemError' &&
    typeof e.code === 'string' &&
    e.code in ERROR_STATUS
  );
}

/**
 * Reads an error body received from the wire. Never throws: anything unrecognisable becomes
 * an error with a code chosen from the HTTP status.
 */
export function errorFromResponse(status: number, body: unknown, retryAfterMs?: number): TandemError {
  const inner = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code =
    typeof inner?.code === 'string' && WIRE_CODES.has(inner.code)
      ? (inner.code as TandemErrorCode)
      : codeForStatus(status);
  const message = typeof inner?.message === 'string' ? inner.message : `HTTP ${status}`;
  return new TandemError(code, message, { status, retryAfterMs });
}

function codeForStatus(status: number): TandemErrorCode {
  if (status === 400) return 'bad_request';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'too_many_connections';
  if (status === 503) return 'shutting_down';
  if (status >= 500) return 'internal';
  return 'network';
}

/** Parses a `Retry-After` header value (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
