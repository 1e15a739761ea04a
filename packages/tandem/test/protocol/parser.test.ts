import { describe, expect, it } from 'vitest';
import { createParser, type ParsedEvent, type TandemError } from '../../src/protocol';

function collect(options: { maxEventBytes?: number } = {}) {
  const events: ParsedEvent[] = [];
  const comments: string[] = [];
  const errors: TandemError[] = [];
  const parser = createParser({
    onEvent: (e) => events.push(e),
    onComment: (c) => comments.push(c),
    onError: (e) => errors.push(e),
    ...options,
  });
  return { parser, events, comments, errors };
}

describe('createParser', () => {
  it('reports comments to the caller, without the colon and one space', () => {
    const { parser, comments } = collect();
    parser.feed(': keep-alive\n:raw\n\n');
    expect(comments).toEqual(['keep-alive', 'raw']);
  });

  it('strips a leading BOM once, from text input too', () => {
    const { parser, events } = collect();
    parser.feed('\uFEFFdata: a\n\n');
    parser.feed('\uFEFFdata: b\n\n');
    // The second BOM is not at the start of the stream: it is part of a field name.
    expect(events.map((e) => e.data)).toEqual(['a']);
  });

  it('drops an unterminated final block and does not apply its id', () => {
    const { parser, events } = collect();
    parser.feed('id: 1\ndata: a\n\nid: 2\ndata: b');
    expect(events.map((e) => e.data)).toEqual(['a']);
    expect(parser.lastEventId).toBe('1');
  });

  it('keeps the last event id across a reset, as an EventSource keeps it across reconnections', () => {
    const { parser, events } = collect();
    parser.feed('id: 5\ndata: a\n\ndata: half');
    parser.reset();
    parser.feed('data: b\n\n');
    expect(events.map((e) => [e.data, e.lastEventId])).toEqual([
      ['a', '5'],
      ['b', '5'],
    ]);
  });

  it('refuses an oversized line with event_too_large and recovers at the next event', () => {
    const { parser, events, errors } = collect({ maxEventBytes: 100 });
    parser.feed(`data: ${'x'.repeat(60)}`);
    parser.feed(`${'x'.repeat(60)}`);
    parser.feed('\n\ndata: ok\n\n');
    expect(errors.map((e) => e.code)).toEqual(['event_too_large']);
    expect(events.map((e) => e.data)).toEqual(['ok']);
  });

  it('refuses an oversized event made of many small lines, dispatching none of it', () => {
    const { parser, events, errors } = collect({ maxEventBytes: 100 });
    for (let i = 0; i < 30; i++) parser.feed('data: 0123456789\n');
    parser.feed('\ndata: next\n\n');
    expect(errors).toHaveLength(1);
    expect(events.map((e) => e.data)).toEqual(['next']);
  });

  it('throws the size error from feed when no onError is given', () => {
    const parser = createParser({ onEvent: () => {}, maxEventBytes: 10 });
    expect(() => parser.feed('data: 0123456789abcdef\n')).toThrow(
      expect.objectContaining({ code: 'event_too_large' }),
    );
  });

  it('joins a multi-byte character split across chunks', () => {
    const { parser, events } = collect();
    const bytes = new TextEncoder().encode('data: €😀\n\n');
    for (const byte of bytes) parser.feed(Uint8Array.of(byte));
    expect(events[0]?.data).toBe('€😀');
  });
});
