/**
 * The compact wire: what a client that asks for it (`?wire=compact` on the stream) gets instead
 * of the classic frames. The hub's hello then says `wire: 'compact'` and gives every channel a
 * short `id`, unique in that hub while the stream lives; an app event is
 *
 *     event:<type>
 *     data:<id> <offset> <ts> <data JSON>
 *
 * with offset and ts in base 36. The channel's epoch is the hello's, until a `tandem:epoch`
 * frame names a new one. Nothing in a frame depends on the stream that receives it, nor on how
 * many channels it follows: the hub encodes it once per event for every compact stream. The
 * classic frames (envelope JSON, the whole cursor as `id:`) stay what a native EventSource and
 * older clients get.
 */
import { assertFieldValue } from './encoder';

/** The stream request's query parameter asking for a wire format. */
export const WIRE_PARAM = 'wire';
/** The value of `WIRE_PARAM`, and of the hello's `wire`, for the compact wire. */
export const COMPACT_WIRE = 'compact';

/** The fields of an app event the compact data line carries besides the channel's id. */
export interface CompactEvent {
  /** The channel's id, from the hello. */
  id: string;
  offset: number;
  ts: number;
  /** The data's JSON text. */
  json: string;
}

const BASE36 = /^[0-9a-z]{1,11}$/;

/** A number as the compact wire writes it: base 36 for what is a safe non-negative integer. */
function numberText(n: number): string {
  // A ts from an injected clock may be fractional: written in decimal after `=`, still exact.
  return Number.isSafeInteger(n) && n >= 0 ? n.toString(36) : `=${n}`;
}

function numberOf(text: string): number {
  return text[0] === '='
    ? Number(text.slice(1) || Number.NaN)
    : BASE36.test(text)
      ? parseInt(text, 36)
      : Number.NaN;
}

/** One app event's whole compact frame. `type` must be a valid SSE field (no CR, LF, NUL). */
export function encodeCompactFrame(type: string, event: CompactEvent): string {
  assertFieldValue('event', type);
  // A type that starts with a space keeps the separating space the parser strips.
  const field = type.charCodeAt(0) === 32 ? `event: ${type}\n` : `event:${type}\n`;
  const data = `${event.id} ${event.offset.toString(36)} ${numberText(event.ts)} ${event.json}`;
  if (!data.includes('\n') && !data.includes('\r')) return `${field}data:${data}\n\n`;
  // Never from JSON.stringify; kept exact anyway: the parser joins data lines with LF.
  return `${field}${data
    .split(/\r\n|\r|\n/)
    .map((line) => `data:${line}\n`)
    .join('')}\n`;
}

/** Reads a compact data line; null when it is not one. */
export function parseCompactData(data: string): CompactEvent | null {
  const [id = '', offsetText = '', tsText] = data.split(' ', 3);
  const offset = numberOf(offsetText);
  const ts = numberOf(tsText ?? '');
  if (!id || !Number.isSafeInteger(offset) || Number.isNaN(ts)) return null;
  return { id, offset, ts, json: data.slice(id.length + offsetText.length + tsText!.length + 3) };
}
