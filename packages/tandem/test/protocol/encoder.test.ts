import { describe, expect, it } from 'vitest';
import { createParser, encodeComment, encodeFrame, encodeFrameBytes, TandemError } from '../../src/protocol';

describe('encodeFrame', () => {
  it('writes every field and ends the frame with a blank line', () => {
    expect(encodeFrame({ retry: 2000, id: 't1~a.b.1', event: 'order:created', data: '{"id":7}' })).toBe(
      'retry: 2000\nid: t1~a.b.1\nevent: order:created\ndata: {"id":7}\n\n',
    );
  });

  it('splits data on LF, CR and CRLF into one data line each', () => {
    expect(encodeFrame({ data: 'a\nb\rc\r\nd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
  });

  it('keeps empty data as one empty data line, so the event is still dispatched', () => {
    const events: string[] = [];
    createParser({ onEvent: (e) => events.push(e.data) }).feed(encodeFrame({ data: '' }));
    expect(events).toEqual(['']);
  });

  it('writes comments, one line each', () => {
    expect(encodeComment('hi\nthere')).toBe(': hi\n: there\n\n');
    expect(encodeComment()).toBe(':\n\n');
  });

  it.each([
    ['CR', 'a\rb'],
    ['LF', 'a\nb'],
    ['NUL', 'a\0b'],
  ])('refuses %s in an event type with invalid_field', (_name, value) => {
    expect(() => encodeFrame({ event: value, data: 'x' })).toThrow(TandemError);
    try {
      encodeFrame({ event: value, data: 'x' });
    } catch (error) {
      expect((error as TandemError).code).toBe('invalid_field');
    }
  });

  it.each([
    ['CR', 'a\rb'],
    ['LF', 'a\nevent: evil'],
    ['NUL', 'a\0'],
  ])('refuses %s in an id with invalid_field', (_name, value) => {
    expect(() => encodeFrame({ id: value, data: 'x' })).toThrow(
      expect.objectContaining({ code: 'invalid_field' }),
    );
  });

  it('refuses a retry that is not a non-negative integer', () => {
    for (const retry of [-1, 1.5, Number.NaN]) {
      expect(() => encodeFrame({ retry })).toThrow(expect.objectContaining({ code: 'invalid_field' }));
    }
  });

  it('cannot be made to inject a second event through data', () => {
    const events: { type: string; data: string }[] = [];
    const parser = createParser({ onEvent: (e) => events.push({ type: e.type, data: e.data }) });
    parser.feed(encodeFrameBytes({ event: 'note', data: 'x\n\nevent: admin\ndata: pwned\r\n\r\n' }));
    expect(events).toEqual([{ type: 'note', data: 'x\n\nevent: admin\ndata: pwned\n\n' }]);
  });
});
