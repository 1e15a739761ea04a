import { TandemError } from './errors';

/** One SSE frame. Every field is optional; an empty frame encodes to an empty string. */
export interface SseFrame {
  id?: string;
  event?: string;
  /** Split on CR, LF and CRLF into one `data:` line each, so the receiver rebuilds it exactly. */
  data?: string;
  /** Reconnection time in milliseconds: a non-negative integer. */
  retry?: number;
  /** A comment block (`: text`); multi-line comments become several comment lines. */
  comment?: string;
}

const LINE_BREAK = /\r\n|\r|\n/;
const FORBIDDEN = /[\r\n\0]/;

/**
 * Refuses a value that could end its line early and inject fields or events: the WHATWG
 * parser treats CR and LF as line ends, and ignores an `id` containing NUL.
 */
export function assertFieldValue(field: 'id' | 'event', value: string): void {
  if (FORBIDDEN.test(value)) {
    throw new TandemError('invalid_field', `SSE ${field} must not contain CR, LF or NUL`);
  }
}

/** Encodes one frame as text, terminated by the blank line that dispatches it. */
export function encodeFrame(frame: SseFrame): string {
  let out = '';
  if (frame.comment !== undefined) {
    for (const line of frame.comment.split(LINE_BREAK)) out += `:${line === '' ? '' : ` ${line}`}\n`;
  }
  if (frame.retry !== undefined) {
    if (!Number.isSafeInteger(frame.retry) || frame.retry < 0) {
      throw new TandemError('invalid_field', 'SSE retry must be a non-negative integer');
    }
    out += `retry: ${frame.retry}\n`;
  }
  if (frame.id !== undefined) {
    assertFieldValue('id', frame.id);
    out += `id: ${frame.id}\n`;
  }
  if (frame.event !== undefined) {
    assertFieldValue('event', frame.event);
    out += `event: ${frame.event}\n`;
  }
  if (frame.data !== undefined) {
    const { data } = frame;
    // Most data is one line (JSON): no regular-expression split for it.
    if (!data.includes('\n') && !data.includes('\r')) out += `data: ${data}\n`;
    else for (const line of data.split(LINE_BREAK)) out += `data: ${line}\n`;
  }
  return out === '' ? '' : `${out}\n`;
}

/** Encodes a comment line; clients ignore it, but it keeps proxies and watchdogs awake. */
export function encodeComment(text = ''): string {
  return encodeFrame({ comment: text });
}

const utf8 = new TextEncoder();

/** Encodes one frame as UTF-8 bytes, ready to be written once and shared by many sockets. */
export function encodeFrameBytes(frame: SseFrame): Uint8Array {
  return utf8.encode(encodeFrame(frame));
}
