import { TandemError } from './errors';
import { COLON, isData, isEvent, isId, LF, valueAt } from './sse-fields';
import { createUtf8Decoder } from './utf8';

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
 *
 * Line ends are found with `indexOf`, fields are slices of the chunk, and an event's data is
 * the slice of its `data:` line, joined only when there are several.
 */
export function createParser(options: ParserOptions): Parser {
  const { onEvent, onRetry, onComment, onError } = options;
  const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;

  let decoder = createUtf8Decoder();
  let started = false;
  // The unterminated end of the previous chunks: the start of the next line.
  let pending = '';
  let lastWasCR = false;
  // The event's data lines joined by LF: the spec's data buffer without its final LF.
  let data = '';
  let dataLines = 0;
  let eventType = '';
  let lastEventIdBuffer = '';
  let lastEventId = '';
  let discarding = false;

  function fail(): void {
    // Drop the oversized event entirely: a partial event must never be dispatched.
    data = '';
    dataLines = 0;
    eventType = '';
    pending = '';
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
    if (dataLines === 0) {
      eventType = '';
      return;
    }
    // Step 3, removing the buffer's final LF, is built in. Steps 4–6: type defaults to "message".
    const event: ParsedEvent = { type: eventType === '' ? 'message' : eventType, data, lastEventId };
    data = '';
    dataLines = 0;
    eventType = '';
    onEvent(event);
  }

  function setId(value: string): void {
    // An id containing U+0000 NULL is ignored.
    if (!value.includes('\0')) lastEventIdBuffer = value;
  }

  function addData(value: string): void {
    data = dataLines === 0 ? value : `${data}\n${value}`;
    dataLines++;
    // The spec's buffer has a LF after every line: one more than data's length.
    if (data.length >= maxEventBytes) fail();
  }

  // "Process the field" steps.
  function processField(field: string, value: string): void {
    switch (field) {
      case 'data':
        addData(value);
        break;
      case 'event':
        eventType = value;
        break;
      case 'id':
        setId(value);
        break;
      case 'retry':
        // Only ASCII digits; anything else is ignored.
        if (DIGITS.test(value)) onRetry?.(Number.parseInt(value, 10));
        break;
      default:
      // Any other field is ignored.
    }
  }

  /** Processes the line `text[start, end)`. */
  function processLine(text: string, start: number, end: number): void {
    if (discarding) {
      // The rest of an oversized event is skipped up to its blank line.
      if (start === end) discarding = false;
      return;
    }
    // A blank line dispatches the event.
    if (start === end) {
      dispatch();
      return;
    }
    // A line starting with a colon is a comment.
    if (text.charCodeAt(start) === COLON) {
      if (onComment) onComment(valueAt(text, start, end));
      return;
    }
    const line = text.slice(start, end);
    const colon = line.indexOf(':');
    if (colon === -1) processField(line, '');
    else processField(line.slice(0, colon), valueAt(line, colon, line.length));
  }

  /** Where the next line starts after the line end at `end`; notes a CR that ends the chunk. */
  function afterLineEnd(text: string, end: number): number {
    if (text.charCodeAt(end) === LF) return end + 1;
    if (end + 1 === text.length) {
      // Its LF, if there is one, comes with the next chunk.
      lastWasCR = true;
      return end + 1;
    }
    return text.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
  }

  function keepPending(text: string): void {
    pending = pending === '' ? text : pending + text;
    if (pending.length > maxEventBytes) {
      if (discarding) pending = '';
      else fail();
    }
  }

  /**
   * Processes the lines of a text without CR from `start`, the first ending at `lf`, and returns
   * where its unterminated rest begins. The fields of every Tandem event are recognised here
   * without slicing their names, and an event whose data line is followed by the blank line is
   * dispatched without a search for that line's end.
   */
  function linesToLF(text: string, start: number, lf: number): number {
    while (lf !== -1) {
      if (start === lf) {
        // A blank line: dispatch, or end the skipping of an oversized event.
        if (discarding) discarding = false;
        else dispatch();
      } else if (discarding) {
        // The rest of an oversized event is skipped up to its blank line.
      } else {
        const first = text.charCodeAt(start);
        if (first === 100 && isData(text, start)) {
          const value = valueAt(text, start + 4, lf);
          if (dataLines !== 0) addData(value);
          else if (value.length >= maxEventBytes) fail();
          else {
            data = value;
            dataLines = 1;
            if (text.charCodeAt(lf + 1) === LF) {
              dispatch();
              start = lf + 2;
              // A chunk often ends with its event.
              lf = start < text.length ? text.indexOf('\n', start) : -1;
              continue;
            }
          }
        } else if (first === 101 && isEvent(text, start)) eventType = valueAt(text, start + 5, lf);
        else if (first === 105 && isId(text, start)) setId(valueAt(text, start + 2, lf));
        else processLine(text, start, lf);
      }
      start = lf + 1;
      lf = text.indexOf('\n', start);
    }
    return start;
  }

  function feedText(text: string): void {
    let start = 0;
    let cr = text.indexOf('\r');
    if (cr === -1 && pending === '' && !lastWasCR) {
      // The common chunk: no CR, no line carried over from the previous one.
      start = linesToLF(text, 0, text.indexOf('\n'));
      if (start < text.length) keepPending(text.slice(start));
      return;
    }
    // A CR that ended the previous chunk and an LF that starts this one are one line end.
    if (lastWasCR) {
      lastWasCR = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    let lf = text.indexOf('\n', start);
    // The first line may have begun in an earlier chunk.
    if (pending !== '') {
      const end = cr === -1 || (lf !== -1 && lf < cr) ? lf : cr;
      if (end === -1) {
        keepPending(start === 0 ? text : text.slice(start));
        return;
      }
      const line = pending + text.slice(start, end);
      pending = '';
      processLine(line, 0, line.length);
      start = afterLineEnd(text, end);
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
    }
    if (cr === -1) {
      // Most streams end their lines with LF alone.
      start = linesToLF(text, start, lf);
    } else {
      // Lines end with CRLF, a lone LF, or a lone CR.
      while (lf !== -1 || cr !== -1) {
        const end = cr === -1 || (lf !== -1 && lf < cr) ? lf : cr;
        processLine(text, start, end);
        start = afterLineEnd(text, end);
        if (lf !== -1 && lf < start) lf = text.indexOf('\n', start);
        if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      }
    }
    if (start < text.length) keepPending(text.slice(start));
  }

  return {
    feed(chunk) {
      let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk);
      if (text === '') return;
      if (!started) {
        // One byte order mark at the start of the stream is not part of it.
        started = true;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      feedText(text);
    },
    reset() {
      decoder = createUtf8Decoder();
      started = false;
      pending = '';
      lastWasCR = false;
      data = '';
      dataLines = 0;
      eventType = '';
      discarding = false;
      // Per spec, the last event ID buffer is not cleared when a connection is re-established.
      lastEventIdBuffer = lastEventId;
    },
    get lastEventId() {
      return lastEventId;
    },
  };
}
