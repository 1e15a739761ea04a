/**
 * How events come out of PostgreSQL: rows of `read` and NOTIFY payloads, as `append` writes
 * them (`channel \n epoch \n offset \n ts \n type \n data`, or the first three fields alone for
 * an event too large for NOTIFY). Channels, epochs and types never contain line breaks, and the
 * data is JSON, whose encoder escapes them, so the first five delimit the fields.
 */
import { rememberJson } from '../broker';
import type { LiveEvent } from '../protocol';

/** Parses data JSON and remembers the text, so the hub's frames and polls need not stringify it. */
export function parseData(json: string): unknown {
  const data: unknown = JSON.parse(json);
  rememberJson(data, json);
  return data;
}

type Notice =
  | { kind: 'event'; event: LiveEvent }
  | { kind: 'position'; channel: string; epoch: string; offset: number };

/** A NOTIFY payload; undefined when malformed (never from our function). */
export function parseNotice(payload: string): Notice | undefined {
  const a = payload.indexOf('\n');
  const b = payload.indexOf('\n', a + 1);
  if (a < 0 || b < 0) return undefined;
  const c = payload.indexOf('\n', b + 1);
  const channel = payload.slice(0, a);
  const epoch = payload.slice(a + 1, b);
  if (c < 0) {
    const offset = Number(payload.slice(b + 1));
    return Number.isSafeInteger(offset) ? { kind: 'position', channel, epoch, offset } : undefined;
  }
  const d = payload.indexOf('\n', c + 1);
  const e = payload.indexOf('\n', d + 1);
  if (d < 0 || e < 0) return undefined;
  try {
    const event: LiveEvent = {
      channel,
      epoch,
      offset: Number(payload.slice(b + 1, c)),
      ts: Number(payload.slice(c + 1, d)),
      type: payload.slice(d + 1, e),
      data: parseData(payload.slice(e + 1)),
    };
    return { kind: 'event', event };
  } catch {
    return undefined;
  }
}
