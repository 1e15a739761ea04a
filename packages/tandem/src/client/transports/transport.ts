import type { ParsedEvent, TandemError } from '../../protocol';

/** What the client asks a transport to open. */
export interface StreamRequest {
  /** The stream endpoint with its `channels` query parameter. */
  url: string;
  /** The cursor to resume from, built from the client's merged positions; null on a fresh start. */
  cursor: string | null;
  /** The bearer token, or null (cookie or no authentication). */
  token: string | null;
  /** Event types to listen for; only needed by transports that cannot see every type. */
  types: Iterable<string>;
}

/** Callbacks from a transport; none is called after `close()`. */
export interface StreamHandlers {
  /** The response arrived and is an event stream. */
  onOpen(): void;
  /** Bytes (or, for EventSource, an event) arrived: the watchdog's evidence of life. */
  onActivity(): void;
  onEvent(event: ParsedEvent): void;
  /** The stream ended or could not be opened. Called once. */
  onClose(error: TandemError): void;
}

export interface StreamConnection {
  close(): void;
  /** Starts listening for one more event type (EventSource dispatches only listened types). */
  listen?(type: string): void;
}

/** Opens one stream; the client recreates it on its own schedule after each close. */
export interface Transport {
  (request: StreamRequest, handlers: StreamHandlers): StreamConnection;
  /**
   * False when a refused stream's HTTP status cannot be seen (a browser's EventSource): the
   * client then asks a poll why, so that a `403` stops it instead of a retry loop. @default true
   */
  readonly seesStatus?: boolean;
}
