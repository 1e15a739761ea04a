import { TandemError } from './errors';

/** An event dispatched by the parser, as an EventSource would dispatch it. */
export interface ParsedEvent {
  /** The `event:` field, or `message` when there was none. */
  type: string;
  data: string;
  /** The source's last event ID at dispatch, with WHATWG persistence across events. */
  lastEventId: string;
}

export interface ParserOptions {
  onEvent: (event: ParsedEvent) => void;
  /** A valid `retry:` field (ASCII digits only), in milliseconds. */
  onRetry?: (ms: number) => void;
  /** A comment line (`:` …), without the colon and one leading space. */
  onComment?: (comment: string) => void;
  /**
   * Largest line or event accepted, counted in decoded UTF-16 code units (bytes for ASCII).
   * Beyond it the parser drops the event in progress and reports `event_too_large` through
   * `onError`, or throws it from `feed` when there is no `onError`.
   * @default 1_048_576
   */
  maxEventBytes?: number;
  onError?: (error: TandemError) => void;
}

export interface Parser {
  /** Feeds the next chunk of the stream: bytes (decoded as UTF-8 across chunks) or text. */
  feed(chunk: Uint8Array | string): void;
  /**
   * Starts a new stream (a reconnection): drops any unterminated line or event and decoder
   * state. The last event ID persists, as it does for an EventSource across reconnections.
   */
  reset(): void;
  /** The source's last event ID: set when an event block is dispatched, never by a partial one. */
  readonly lastEventId: string;
}

const DEFAULT_MAX_EVENT_BYTES = 1_048_576;
const DIGITS = /^[0-9]+$/;

/**
 * A streaming parser for `text/event-stream`, implementing the WHATWG HTML "Server-sent
 * events" interpretation: https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
export function createParser(options: ParserOptions): Parser {
  const { onEvent, onRetry, onComment, onError } = options;
  const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;

  let decoder = new TextDecoder('utf-8');
  let started = false;
  let line = '';
  let lastWasCR = false;
  let dataBuffer = '';
  let eventTypeBuffer = '';
  let lastEventIdBuffer = '';
  let lastEventId = '';
  let discarding = false;

  function fail(): void {
    // Drop the oversized event entirely: a partial event must never be dispatched.
    dataBuffer = '';
    eventTypeBuffer = '';
    line = '';
    discarding = true;
    const error = new TandemError('event_too_large', `SSE line or event exceeds ${maxEventBytes} characters`);
    if (onError) onError(error);
    else throw error;
  }

  // "Dispatch the event" steps.
  function dispatch(): void {
    // Step 1: the source's last event ID becomes the buffer's value, even without data.
    lastEventId = lastEventIdBuffer;
    // Step 2: with an empty data buffer, reset the buffers and dispatch nothing.
    if (dataBuffer === '') {
      eventTypeBuffer = '';
      return;
    }
    // Step 3: remove the data buffer's final LF.
    const data = dataBuffer.endsWith('\n') ? dataBuffer.slice(0, -1) : dataBuffer;
    // Steps 4–6: type defaults to "message".
    const type = eventTypeBuffer === '' ? 'message' : eventTypeBuffer;
    dataBuffer = '';
    eventTypeBuffer = '';
    onEvent({ type, data, lastEventId });
  }

  // "Process the field" steps.
  function processField(field: string, value: string): void {
    switch (field) {
      case 'event':
        eventTypeBuffer = value;
        break;
      case 'data':
        dataBuffer += `${value}\n`;
        if (dataBuffer.length > maxEventBytes) fail();
        break;
      case 'id':
        // An id containing U+0000 NULL is ignored.
        if (!value.includes('\0')) lastEventIdBuffer = value;
        break;
      case 'retry':
        // Only ASCII digits; anything else is ignored.
        if (DIGITS.test(value)) onRetry?.(Number.parseInt(value, 10));
        break;
      default:
      // Any other field is ignored.
    }
  }

  function processLine(text: string): void {
    if (discarding) {
      // The rest of an oversized event is skipped up to its blank line.
      if (text === '') discarding = false;
      return;
    }
    // A blank line dispatches the event.
    if (text === '') {
      dispatch();
      return;
    }
    const colon = text.indexOf(':');
    // A line starting with a colon is a comment.
    if (colon === 0) {
      onComment?.(text.startsWith(': ') ? text.slice(2) : text.slice(1));
      return;
    }
    if (colon === -1) {
      processField(text, '');
      return;
    }
    // Collect the value after the colon, dropping one leading space.
    const value = text.charCodeAt(colon + 1) === 32 ? text.slice(colon + 2) : text.slice(colon + 1);
    processField(text.slice(0, colon), value);
  }

  function feedText(text: string): void {
    let start = 0;
    // A CR that ended the previous chunk and an LF that starts this one are one line end.
    if (lastWasCR && text.charCodeAt(0) === 10) start = 1;
    lastWasCR = false;
    const length = text.length;
    for (let i = start; i < length; i++) {
      const code = text.charCodeAt(i);
      // Lines end with CRLF, a lone LF, or a lone CR.
      if (code !== 10 && code !== 13) continue;
      const piece = text.slice(start, i);
      const full = line === '' ? piece : line + piece;
      line = '';
      if (code === 13) {
        if (i + 1 < length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          lastWasCR = true;
        }
      }
      start = i + 1;
      processLine(full);
    }
    if (start < length) {
      line += text.slice(start);
      if (line.length > maxEventBytes) {
        if (discarding) line = '';
        else fail();
      }
    }
  }

  return {
    feed(chunk) {
      let text: string;
      if (typeof chunk === 'string') {
        // Bytes go through TextDecoder, which strips a leading BOM itself; text needs it here.
        text = !started && chunk.charCodeAt(0) === 0xfeff ? chunk.slice(1) : chunk;
      } else {
        text = decoder.decode(chunk, { stream: true });
      }
      if (chunk.length > 0) started = true;
      if (text !== '') feedText(text);
    },
    reset() {
      decoder = new TextDecoder('utf-8');
      started = false;
      line = '';
      lastWasCR = false;
      dataBuffer = '';
      eventTypeBuffer = '';
      discarding = false;
      // Per spec, the last event ID buffer is not cleared when a connection is re-established.
      lastEventIdBuffer = lastEventId;
    },
    get lastEventId() {
      return lastEventId;
    },
  };
}
