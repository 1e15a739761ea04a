/** Bytes of `text` in UTF-8 (a lone surrogate counts 3, as its replacement character). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A pair: 2 units, 4 bytes.
        bytes += 2;
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** Bytes of `text` in UTF-8; a native scan when it is ASCII, as JSON mostly is. */
export function byteLength(text: string): number {
  return NON_ASCII.test(text) ? utf8Length(text) : text.length;
}
