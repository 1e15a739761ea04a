/**
 * Minimal parsing for the load generator: enough to find where one event ends, read the send
 * timestamp the benchmark put in its payload, and (for resume checks) the SSE id and offset.
 * It assumes `\n` line ends, which every server under test writes; it is not a general parser.
 */

/** The key of the send timestamp in every benchmark payload: `{"bt":<ms>,"p":"…"}`. */
export const STAMP_KEY = '"bt":';

/** Reads the JSON number that follows `key` in `text`, or NaN when the key is absent. */
export function numberAfter(text: string, key: string, from = 0): number {
  const at = text.indexOf(key, from);
  if (at < 0) return Number.NaN;
  let i = at + key.length;
  const start = i;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // digits, '.', '-', '+', 'e'
    if (!((c >= 48 && c <= 57) || c === 46 || c === 45 || c === 43 || c === 101)) break;
  }
  return i === start ? Number.NaN : Number(text.slice(start, i));
}

/** The value of a field line (`name: value`) in one SSE frame, or undefined. */
export function fieldOf(frame: string, name: string): string | undefined {
  const prefix = `${name}:`;
  let start: number;
  if (frame.startsWith(prefix)) start = prefix.length;
  else {
    const at = frame.indexOf(`\n${prefix}`);
    if (at < 0) return undefined;
    start = at + 1 + prefix.length;
  }
  if (frame.charCodeAt(start) === 32) start++;
  const end = frame.indexOf('\n', start);
  return frame.slice(start, end < 0 ? frame.length : end);
}

export interface FrameSink {
  /** A frame carrying a send timestamp; `frame` is its text without the blank line. */
  onStamped(stampMs: number, frame: string): void;
  /** Any other frame (hello, ping, comments…). */
  onOther(frame: string): void;
}

/**
 * Splits an SSE byte stream into frames at blank lines. Text is decoded as latin1, one
 * character per byte, so a chunk boundary inside a UTF-8 character cannot corrupt anything:
 * the fields it reads are ASCII.
 */
export class SseFramer {
  private rest = '';

  constructor(private readonly sink: FrameSink) {}

  push(chunk: Buffer): void {
    let text = this.rest === '' ? chunk.toString('latin1') : this.rest + chunk.toString('latin1');
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n\n', start);
      if (end < 0) break;
      const frame = text.slice(start, end);
      start = end + 2;
      const stamp = numberAfter(frame, STAMP_KEY);
      if (!Number.isNaN(stamp)) this.sink.onStamped(stamp, frame);
      else this.sink.onOther(frame);
    }
    text = start === 0 ? text : text.slice(start);
    // A frame never legitimately grows past a few MB here; guard the generator's memory.
    if (text.length > 8 * 1024 * 1024) throw new Error('SSE frame larger than 8 MiB');
    this.rest = text;
  }

  reset(): void {
    this.rest = '';
  }
}
