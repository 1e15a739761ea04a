import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createParser, type ParsedEvent } from '../../src/protocol';

interface Vector {
  name: string;
  chunks: string[];
  chunksHex?: string[];
  expected: { type: string; data: string; id: string }[];
  retry?: number;
  lastEventId?: string;
  source: string;
}

// Cases from the test suites of eventsource-parser and eventsource; fixtures/README.md says
// where each comes from and how to read it.
const vectorsPath = fileURLToPath(new URL('./fixtures/sse-parser-vectors.json', import.meta.url));
const vectors = JSON.parse(readFileSync(vectorsPath, 'utf8')) as Vector[];

function run(vector: Vector) {
  const events: ParsedEvent[] = [];
  let retry: number | undefined;
  const parser = createParser({ onEvent: (e) => events.push(e), onRetry: (ms) => (retry = ms) });
  const encoder = new TextEncoder();
  const chunks = vector.chunksHex
    ? vector.chunksHex.map((hex) => Uint8Array.from(Buffer.from(hex, 'hex')))
    : vector.chunks.map((text) => encoder.encode(text));
  for (const chunk of chunks) parser.feed(chunk);
  return { events, retry, lastEventId: parser.lastEventId };
}

describe('SSE parser conformance vectors', () => {
  it('has the full suite, each case naming its source', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(29);
    for (const vector of vectors)
      expect(vector.source, vector.name).toMatch(/^(rexxars\/eventsource-parser|EventSource\/eventsource)\//);
  });

  for (const vector of vectors) {
    it(vector.name, () => {
      const { events, retry, lastEventId } = run(vector);
      expect(events.map((e) => ({ type: e.type, data: e.data, id: e.lastEventId }))).toEqual(vector.expected);
      if (vector.retry !== undefined) expect(retry).toBe(vector.retry);
      if (vector.lastEventId !== undefined) expect(lastEventId).toBe(vector.lastEventId);
    });
  }

  it('gives the same events when every vector is fed one byte at a time', () => {
    for (const vector of vectors) {
      const whole = run(vector);
      const bytes = Buffer.concat(
        (vector.chunksHex ?? []).length
          ? vector.chunksHex!.map((hex) => Buffer.from(hex, 'hex'))
          : vector.chunks.map((text) => Buffer.from(text, 'utf8')),
      );
      const events: ParsedEvent[] = [];
      const parser = createParser({ onEvent: (e) => events.push(e) });
      for (const byte of bytes) parser.feed(Uint8Array.of(byte));
      expect(events, vector.name).toEqual(whole.events);
    }
  });
});
