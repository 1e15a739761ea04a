/**
 * The JSON that published data was stored from, kept beside the (frozen) data object so that
 * fan-out never stringifies it again.
 */
const dataJson = new WeakMap<object, string>();

/** Remembers the JSON of published `data` (objects only). */
export function rememberJson(data: unknown, json: string): void {
  if (typeof data === 'object' && data !== null) dataJson.set(data, json);
}

/** The JSON of `data`: the remembered text, or a fresh `JSON.stringify` (`null` for undefined). */
export function jsonOf(data: unknown): string {
  return (
    (typeof data === 'object' && data !== null ? dataJson.get(data) : undefined) ??
    JSON.stringify(data) ??
    'null'
  );
}

const NON_ASCII = /[^\x00-\x7f]/;
const encoder = new TextEncoder();
/** Bytes of each stored event's JSON, counted once: every bounded read and poll asks again. */
const dataBytes = new WeakMap<object, number>();

/**
 * UTF-8 bytes of `data`'s JSON, which bounded reads count: its length when ASCII, as JSON
 * mostly is (no copy), else what the encoder makes of it. Remembered per data object: the
 * scan for non-ASCII was 15 % of a hub's CPU under bench H's poll amplification.
 */
export function jsonBytes(data: unknown): number {
  const stored = typeof data === 'object' && data !== null;
  if (stored) {
    const known = dataBytes.get(data);
    if (known !== undefined) return known;
  }
  const json = jsonOf(data);
  const bytes = NON_ASCII.test(json) ? encoder.encode(json).length : json.length;
  if (stored) dataBytes.set(data, bytes);
  return bytes;
}
