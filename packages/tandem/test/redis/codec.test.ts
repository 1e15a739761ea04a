import { describe, expect, it } from 'vitest';
import { entryToEvent, parseNotification } from '../../src/redis/codec';

describe('Redis event codec', () => {
  it('reads a notification whose data holds line breaks and separators', () => {
    const data = { text: 'a\nb\r\nc', sep: '\n\n\n', nested: [{ x: '|' }] };
    const message = `e1\n42\n1700000000000\norder:created\n${JSON.stringify(data)}`;
    expect(parseNotification('tenant:a/orders', message)).toEqual({
      channel: 'tenant:a/orders',
      epoch: 'e1',
      offset: 42,
      ts: 1_700_000_000_000,
      type: 'order:created',
      data,
    });
  });

  it('ignores a notification it cannot read instead of delivering garbage', () => {
    expect(parseNotification('c', 'e1\n1\n2')).toBeUndefined();
    expect(parseNotification('c', 'e1\n1\n2\nt\n{not json')).toBeUndefined();
  });

  it('reads a stream entry by field name, its offset from the entry ID', () => {
    expect(entryToEvent('c', 'e1', '7-0', ['ts', '1700000000000', 't', 'x', 'd', '{"a":[1,2]}'])).toEqual({
      channel: 'c',
      epoch: 'e1',
      offset: 7,
      ts: 1_700_000_000_000,
      type: 'x',
      data: { a: [1, 2] },
    });
  });
});
