import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createUtf8Decoder } from '../../src/protocol/utf8';

// Valid characters of every length, and bytes that break sequences: lone leads, stray
// continuations, overlongs, surrogates, bytes that are never UTF-8.
const piece = fc.oneof(
  fc.constantFrom('a', 'é', '€', '😀', '\uFEFF').map((c) => new TextEncoder().encode(c)),
  fc
    .constantFrom(0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xe0, 0xe2, 0xed, 0xf0, 0xf4, 0xf5, 0xff)
    .map((b) => Uint8Array.of(b)),
  fc.uint8Array({ maxLength: 4 }),
);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('UTF-8 decoding in whole decodes', () => {
  it('gives the text of one decode of all the bytes, wherever the chunks are cut', () => {
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (parts, cuts) => {
          // The stream ends with an ASCII byte, as an SSE stream ends with a line end: it settles
          // whatever sequence was left incomplete before it.
          const bytes = concat([...parts, Uint8Array.of(0x5a)]);
          const points = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
          const decoder = createUtf8Decoder();
          let text = '';
          let start = 0;
          for (const p of [...points, bytes.length]) {
            text += decoder.decode(bytes.subarray(start, p));
            start = p;
          }
          expect(text).toBe(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
