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

/**
 * UTF-8 bytes of `data`'s JSON, which bounded reads count: its length when ASCII, as JSON
 * mostly is (no copy), else what the encoder makes of it.
 */
export function jsonBytes(data: unknown): number {
  const json = jsonOf(data);
  return NON_ASCII.test(json) ? encoder.encode(json).length : json.length;
}
