import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createParser,
  decodeCursor,
  encodeCursor,
  encodeFrame,
  type ParsedEvent,
  type Position,
} from '../../src/protocol';

// Types and ids may hold anything but CR, LF and NUL (the encoder refuses those).
const fieldText = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !/[\r\n\0]/.test(s));
// Data may hold any text, line breaks of every kind included.
const dataText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc
    .array(fc.constantFrom('a', 'é', '€', '😀', '\n', '\r', '\r\n', ':', ' ', 'data: x'), { maxLength: 30 })
    .map((a) => a.join('')),
);
const frame = fc.record({
  event: fc.option(
    fieldText.filter((s) => s !== ''),
    { nil: undefined },
  ),
  id: fc.option(fieldText, { nil: undefined }),
  data: dataText,
});

/** Splits bytes at the given (sorted, deduplicated) positions. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(start, p));
    start = p;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

describe('encode → split at random bytes → parse', () => {
  it('gives back the same events, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(frame, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (frames, cuts) => {
          const bytes = new TextEncoder().encode(frames.map((f) => encodeFrame(f)).join(''));
          const events: ParsedEvent[] = [];
          const parser = createParser({ onEvent: (e) => events.push(e) });
          for (const chunk of split(bytes, cuts)) parser.feed(chunk);

          // The id persists across events per WHATWG until another id changes it.
          let lastId = '';
          const expected = frames.map((f) => {
            if (f.id !== undefined) lastId = f.id;
            return {
              type: f.event ?? 'message',
              data: f.data.replace(/\r\n|\r/g, '\n'),
              lastEventId: lastId,
            };
          });
          expect(events).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});

const channelName = fc.stringMatching(/^[A-Za-z0-9_.:/-]{1,40}$/);
const position: fc.Arbitrary<Position> = fc.record({
  epoch: fc.stringMatching(/^[0-9a-z]{1,16}$/),
  offset: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
});

describe('cursor codec', () => {
  it('round-trips every set of positions', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(channelName, position), { selector: ([c]) => c, maxLength: 20 }),
        (pairs) => {
          const cursor = encodeCursor(pairs);
          expect(cursor).toMatch(/^[A-Za-z0-9._~-]+$/);
          const channels = pairs.map(([c]) => c);
          const decoded = decodeCursor(cursor, channels);
          expect(decoded.malformed).toBe(false);
          // Channels whose hashes collide are reported unknown instead of guessed.
          for (const [channel, pos] of pairs) {
            if (decoded.unknown.includes(channel)) continue;
            expect(decoded.positions.get(channel)).toEqual(pos);
          }
          expect(decoded.positions.size + decoded.unknown.length).toBe(channels.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on random strings, and then trusts nothing it cannot read', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.uniqueArray(channelName, { maxLength: 5 }),
        (input, channels) => {
          const decoded = decodeCursor(input, channels);
          expect(decoded.positions.size + decoded.unknown.length).toBe(channels.length);
          if (decoded.malformed) expect(decoded.positions.size).toBe(0);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throws on a valid cursor with random edits, and trusts none of a broken one', () => {
    const channels = ['tenant:acme/orders', 'tenant:acme/stock'];
    const valid = encodeCursor([
      ['tenant:acme/orders', { epoch: 'k3j9x0a1b2', offset: 1234 }],
      ['tenant:acme/stock', { epoch: 'k3j9x0a1b2', offset: 7 }],
    ]);
    fc.assert(
      fc.property(fc.nat(), fc.string({ maxLength: 3 }), fc.nat({ max: 3 }), (at, insert, remove) => {
        const i = at % (valid.length + 1);
        const edited = valid.slice(0, i) + insert + valid.slice(i + remove);
        const decoded = decodeCursor(edited, channels);
        expect(decoded.positions.size + decoded.unknown.length).toBe(2);
        if (decoded.malformed) expect(decoded.positions.size).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on random bytes or values of any type', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((b) => new TextDecoder().decode(b)),
          fc.anything(),
        ),
        (input) => {
          const decoded = decodeCursor(input, ['a', 'b/c']);
          expect(decoded.positions.size + decoded.unknown.length).toBe(2);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throws while parsing random bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const parser = createParser({ onEvent: () => {}, maxEventBytes: 128, onError: () => {} });
        for (const chunk of chunks) parser.feed(chunk);
      }),
      { numRuns: 500 },
    );
  });
});
