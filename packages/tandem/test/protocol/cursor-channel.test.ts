import { describe, expect, it } from 'vitest';
import {
  channelHash,
  channelMatches,
  decodeCursor,
  encodeCursor,
  isValidChannel,
  newEpoch,
  parseChannelList,
} from '../../src/protocol';

describe('decodeCursor', () => {
  const channels = ['tenant:acme/orders', 'tenant:acme/stock'];
  const cursor = encodeCursor({
    'tenant:acme/orders': { epoch: 'abc', offset: 41 },
    'tenant:acme/stock': { epoch: 'abc', offset: 0 },
  });

  it('reads back the positions of the requested channels', () => {
    const decoded = decodeCursor(cursor, channels);
    expect(decoded).toMatchObject({ present: true, malformed: false, unknown: [] });
    expect(decoded.positions.get('tenant:acme/orders')).toEqual({ epoch: 'abc', offset: 41 });
  });

  it('marks a channel the cursor does not mention as unknown', () => {
    const decoded = decodeCursor(cursor, [...channels, 'tenant:acme/new']);
    expect(decoded.unknown).toEqual(['tenant:acme/new']);
    expect(decoded.malformed).toBe(false);
  });

  it('treats an absent cursor as absent, not malformed', () => {
    for (const input of [undefined, null, '']) {
      expect(decodeCursor(input, channels)).toMatchObject({
        present: false,
        malformed: false,
        unknown: channels,
      });
    }
  });

  it.each([
    ['a foreign numeric id', '42'],
    ['another version', 't2~a.b.1'],
    ['a broken entry', 't1~abc.def'],
    ['an upper-case epoch', `t1~${channelHash('tenant:acme/orders')}.ABC.1`],
    ['an offset past 2^53', `t1~${channelHash('tenant:acme/orders')}.abc.zzzzzzzzzzz`],
    ['an oversized cursor', `t1~${'a.b.1~'.repeat(3000)}a.b.1`],
  ])('treats %s as malformed: every channel unknown', (_name, input) => {
    const decoded = decodeCursor(input, channels);
    expect(decoded.malformed).toBe(true);
    expect(decoded.unknown).toEqual(channels);
    expect(decoded.positions.size).toBe(0);
  });
});

describe('epochs', () => {
  it('are short, cursor-safe and distinct', () => {
    const epochs = new Set(Array.from({ length: 1000 }, () => newEpoch()));
    expect(epochs.size).toBe(1000);
    for (const epoch of epochs) expect(epoch).toMatch(/^[0-9a-z]{10}$/);
  });
});

describe('channels', () => {
  it('accepts 1-200 characters from the allowed set only', () => {
    expect(isValidChannel('tenant:acme/orders.eu-1_x')).toBe(true);
    expect(isValidChannel('a'.repeat(200))).toBe(true);
    for (const bad of ['', 'a'.repeat(201), 'a b', 'a,b', 'ä', 'a\n', 'a?b'])
      expect(isValidChannel(bad)).toBe(false);
  });

  it('parses a channel list, removing duplicates and refusing bad names with a typed error', () => {
    expect(parseChannelList('a,b,a')).toEqual(['a', 'b']);
    expect(() => parseChannelList('a,,b')).toThrow(expect.objectContaining({ code: 'invalid_channel' }));
    expect(() => parseChannelList('')).toThrow(expect.objectContaining({ code: 'bad_request' }));
    expect(() => parseChannelList(Array.from({ length: 65 }, (_, i) => `c${i}`).join(','))).toThrow(
      expect.objectContaining({ code: 'bad_request' }),
    );
  });

  it('matches authorization patterns: * within a segment, ** across segments', () => {
    expect(channelMatches('tenant:acme/*', 'tenant:acme/orders')).toBe(true);
    expect(channelMatches('tenant:acme/*', 'tenant:acme/orders/eu')).toBe(false);
    expect(channelMatches('tenant:acme/*', 'tenant:acme2/orders')).toBe(false);
    expect(channelMatches('tenant:acme/**', 'tenant:acme/orders/eu')).toBe(true);
    expect(channelMatches('tenant:acme.x', 'tenant:acmeXx')).toBe(false);
    expect(channelMatches('tenant:acme/orders', 'tenant:acme/orders')).toBe(true);
  });
});
