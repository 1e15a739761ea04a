/**
 * Bytes without `node:buffer`: the core of the server runs on any Fetch-API runtime (Node, Bun,
 * Deno), so it builds plain `Uint8Array`s. Only the Node adapter turns them into Buffers.
 */
const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** One array holding `parts` in order; `total`, when known, saves summing their lengths. */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  let length = total;
  if (length === undefined) {
    length = 0;
    for (const part of parts) length += part.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
