import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IncomingEvent, Merge } from '../../src/client/merge';

const ev = (
  channel: string,
  offset: number,
  epoch = 'e1',
  source: 'stream' | 'poll' = 'stream',
): IncomingEvent => ({
  channel,
  type: 't',
  offset,
  epoch,
  ts: 0,
  data: offset,
  source,
});

function collect(channels = ['a', 'b'], initial = {}) {
  const delivered: IncomingEvent[] = [];
  const merge = new Merge(channels, (e) => delivered.push(e), initial);
  return {
    merge,
    delivered,
    offsets: (c: string) => delivered.filter((e) => e.channel === c).map((e) => e.offset),
  };
}

describe('merge', () => {
  it('delivers each event once, whichever path brings it first', () => {
    const { merge, offsets } = collect(['a'], { a: { epoch: 'e1', offset: 0 } });
    expect(merge.accept(ev('a', 1))).toBe('delivered');
    expect(merge.accept(ev('a', 1, 'e1', 'poll'))).toBe('duplicate');
    expect(merge.accept(ev('a', 2, 'e1', 'poll'))).toBe('delivered');
    expect(merge.accept(ev('a', 2))).toBe('duplicate');
    expect(offsets('a')).toEqual([1, 2]);
    expect(merge.positions()).toEqual({ a: { epoch: 'e1', offset: 2 } });
  });

  it('holds events past a hole and releases them in order once it is filled', () => {
    const { merge, offsets } = collect(['a'], { a: { epoch: 'e1', offset: 0 } });
    expect(merge.accept(ev('a', 3))).toBe('held');
    expect(merge.accept(ev('a', 4))).toBe('held');
    expect(offsets('a')).toEqual([]);
    merge.accept(ev('a', 1, 'e1', 'poll'));
    merge.accept(ev('a', 2, 'e1', 'poll'));
    expect(offsets('a')).toEqual([1, 2, 3, 4]);
  });

  it('in any arrival order with duplicates, every event reaches the app once, in order per channel', () => {
    const arrival = fc
      .tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }))
      .chain(([na, nb]) => {
        const all = [
          ...Array.from({ length: na }, (_, i) => ev('a', i + 1)),
          ...Array.from({ length: nb }, (_, i) => ev('b', i + 1)),
        ];
        return fc
          .tuple(fc.shuffledSubarray(all, { minLength: all.length }), fc.array(fc.constantFrom(...all)))
          .chain(([base, extra]) =>
            fc.shuffledSubarray([...base, ...extra], { minLength: base.length + extra.length }),
          )
          .map((events) => ({ na, nb, events }));
      });
    fc.assert(
      fc.property(arrival, ({ na, nb, events }) => {
        const { merge, offsets } = collect(['a', 'b'], {
          a: { epoch: 'e1', offset: 0 },
          b: { epoch: 'e1', offset: 0 },
        });
        for (const e of events) merge.accept(e);
        expect(offsets('a')).toEqual(Array.from({ length: na }, (_, i) => i + 1));
        expect(offsets('b')).toEqual(Array.from({ length: nb }, (_, i) => i + 1));
      }),
      { numRuns: 300 },
    );
  });

  it('starts a channel without a position at its first event, or where the server says', () => {
    const { merge, offsets } = collect(['a', 'b']);
    expect(merge.accept(ev('a', 7))).toBe('delivered');
    expect(offsets('a')).toEqual([7]);
    merge.learn('b', { epoch: 'e1', head: 41 }, merge.snapshot());
    expect(merge.positions().b).toEqual({ epoch: 'e1', offset: 41 });
    // A report does not move a channel that already has a position.
    merge.learn('a', { epoch: 'e1', head: 3 }, new Map());
    expect(merge.positions().a).toEqual({ epoch: 'e1', offset: 7 });
  });

  it('drops events of an epoch it does not follow', () => {
    const { merge, offsets } = collect(['a'], { a: { epoch: 'e1', offset: 5 } });
    expect(merge.accept(ev('a', 6, 'e2'))).toBe('foreign');
    expect(offsets('a')).toEqual([]);
  });

  it('reports one loss once, though both paths report it', () => {
    const { merge, offsets } = collect(['a', 'b'], {
      a: { epoch: 'e1', offset: 5 },
      b: { epoch: 'e1', offset: 2 },
    });
    const stream = merge.snapshot();
    const poll = merge.snapshot();
    // The poll reports first, with the position to continue from.
    expect(merge.resync(['a'], poll, new Map([['a', { epoch: 'e2', offset: 0 }]]))).toEqual(['a']);
    expect(merge.positions().a).toEqual({ epoch: 'e2', offset: 0 });
    // The stream, opened before, reports the same loss: not new.
    expect(merge.resync(['a'], stream)).toEqual([]);
    expect(merge.positions().a).toEqual({ epoch: 'e2', offset: 0 });
    merge.accept(ev('a', 1, 'e2'), stream);
    expect(offsets('a')).toEqual([1]);
    // A later, new loss reported by that stream (now in step) is reported.
    expect(merge.resync(['a'], stream)).toEqual(['a']);
  });

  it('after a resync without a position, continues from the next event or from the new log start', () => {
    const { merge, offsets } = collect(['a', 'b'], {
      a: { epoch: 'e1', offset: 5 },
      b: { epoch: 'e1', offset: 5 },
    });
    const stream = merge.snapshot();
    expect(merge.resync(['a', 'b'], stream)).toEqual(['a', 'b']);
    expect(merge.positions()).toEqual({});
    // a: the next event (any epoch) starts the position.
    merge.accept(ev('a', 1, 'e2'), stream);
    expect(offsets('a')).toEqual([1]);
    // b: a later report of a new epoch starts at that log's beginning, so nothing after the loss is skipped.
    const poll = merge.snapshot();
    expect(merge.resync(['b'], poll, new Map([['b', { epoch: 'e2', offset: 9 }]]))).toEqual([]);
    expect(merge.positions().b).toEqual({ epoch: 'e2', offset: 0 });
  });

  it('after a resync, a late event from before the loss does not start the new lineage', () => {
    const { merge, offsets } = collect(['a', 'b'], {
      a: { epoch: 'e1', offset: 5 },
      b: { epoch: 'e1', offset: 5 },
    });
    const stream = merge.snapshot();
    expect(merge.resync(['a'], stream, undefined, 'epoch')).toEqual(['a']);
    expect(merge.resync(['b'], stream, undefined, 'gap')).toEqual(['b']);
    // a: the old log is gone, so none of its events counts; b: same log, later offsets do.
    expect(merge.accept(ev('a', 6, 'e1', 'poll'))).toBe('duplicate');
    expect(merge.accept(ev('b', 5, 'e1', 'poll'))).toBe('duplicate');
    expect(merge.accept(ev('b', 9, 'e1'))).toBe('delivered');
    expect(merge.accept(ev('a', 1, 'e2'))).toBe('delivered');
    expect(offsets('a')).toEqual([1]);
    expect(offsets('b')).toEqual([9]);
  });

  it('does not report a loss for channels the request had no position for', () => {
    const { merge } = collect(['a']);
    expect(merge.resync(['a'], merge.snapshot(), new Map([['a', { epoch: 'e1', offset: 3 }]]))).toEqual([]);
    expect(merge.positions().a).toEqual({ epoch: 'e1', offset: 3 });
  });
});
