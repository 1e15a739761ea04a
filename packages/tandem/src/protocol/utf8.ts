/**
 * Streaming UTF-8 decoding for the SSE parser, done as whole decodes. `TextDecoder.decode` with
 * `{ stream: true }` is several times slower than a plain `decode` in some runtimes (Node.js
 * leaves its fast UTF-8 path for good once it sees the option). This decoder holds back an
 * incomplete sequence at the end of a chunk itself and decodes the rest in one call; the text
 * is the same as a streaming decode's, since every cut falls before a lead byte, where a
 * streaming decoder starts afresh as well.
 */

/** Length of the sequence a lead byte starts: 1 for ASCII, 0 for a byte that starts none. */
function sequenceLength(byte: number): number {
  if (byte < 0x80) return 1;
  if (byte < 0xc2) return 0;
  if (byte < 0xe0) return 2;
  if (byte < 0xf0) return 3;
  return byte < 0xf5 ? 4 : 0;
}

const isContinuation = (byte: number) => (byte & 0xc0) === 0x80;

/** Where an incomplete sequence at the end of `bytes[from…]` starts, or `bytes.length`. */
function completeEnd(bytes: Uint8Array, from: number): number {
  const end = bytes.length;
  for (let i = end - 1; i >= from && i >= end - 3; i--) {
    const byte = bytes[i]!;
    if (!isContinuation(byte)) return sequenceLength(byte) > end - i ? i : end;
  }
  return end;
}

interface Utf8Decoder {
  /** The text of the complete characters so far; an incomplete one waits for the next chunk. */
  decode(bytes: Uint8Array): string;
}

/** A decoder that keeps a byte order mark: the parser strips one at the start of a stream. */
export function createUtf8Decoder(): Utf8Decoder {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  // The start of a sequence that the previous chunk cut.
  let carry: Uint8Array | null = null;

  return {
    decode(bytes) {
      let head = '';
      let from = 0;
      if (carry !== null) {
        // The continuation bytes this chunk adds to the carried sequence.
        const need = sequenceLength(carry[0]!);
        while (carry.length + from < need && from < bytes.length && isContinuation(bytes[from]!)) from++;
        const joined = new Uint8Array(carry.length + from);
        joined.set(carry);
        joined.set(bytes.subarray(0, from), carry.length);
        if (joined.length < need && from === bytes.length) {
          carry = joined;
          return '';
        }
        carry = null;
        head = decoder.decode(joined);
      }
      const end = completeEnd(bytes, from);
      // A copy: the caller may reuse its buffer.
      if (end < bytes.length) carry = bytes.slice(end);
      if (end === from) return head;
      const body = decoder.decode(from === 0 && end === bytes.length ? bytes : bytes.subarray(from, end));
      return head === '' ? body : head + body;
    },
  };
}
