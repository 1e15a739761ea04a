import { describe, expect, it } from 'vitest';
import { Election, TAKEOVER_STAGGER_MS, takeoverRank } from '../../src/client/share/election';
import type { LockManagerLike, LockOptionsLike } from '../../src/client/share/platform';
import { TimerSlot } from '../../src/protocol';
import { type FakeEnv, fakeEnv, flush } from '../helpers/fake-env';

/**
 * The tab group's election on a lock manager that keeps Web Locks' rules (one holder per name,
 * a queue, `steal`, `signal`, `query`), in fake time.
 */

interface Request {
  name: string;
  callback: () => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

class FakeLocks implements LockManagerLike {
  readonly holders = new Map<string, Request>();
  readonly waiting: Request[] = [];

  request(name: string, options: LockOptionsLike, callback: () => unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const request = { name, callback, resolve, reject };
      if (options.steal) {
        const holder = this.holders.get(name);
        this.holders.delete(name);
        holder?.reject(new Error('AbortError: the lock was stolen'));
        this.#grant(request);
        return;
      }
      options.signal?.addEventListener('abort', () => {
        const index = this.waiting.indexOf(request);
        if (index === -1) return;
        this.waiting.splice(index, 1);
        reject(new Error('AbortError: the request was aborted'));
      });
      if (this.holders.has(name)) this.waiting.push(request);
      else this.#grant(request);
    });
  }

  async query(): Promise<{ held: Array<{ name: string }> }> {
    return { held: [...this.holders.keys()].map((name) => ({ name })) };
  }

  #grant(request: Request): void {
    this.holders.set(request.name, request);
    // As in browsers, the callback runs later, never inside `request`.
    queueMicrotask(() => {
      const done = (settle: () => void) => () => {
        this.#release(request);
        settle();
      };
      Promise.resolve()
        .then(request.callback)
        .then(
          (value) => done(() => request.resolve(value))(),
          (error) => done(() => request.reject(error))(),
        );
    });
  }

  #release(request: Request): void {
    if (this.holders.get(request.name) !== request) return;
    this.holders.delete(request.name);
    const next = this.waiting.findIndex((waiting) => waiting.name === request.name);
    if (next !== -1) this.#grant(this.waiting.splice(next, 1)[0]!);
  }
}

const GROUP = 'tandem:share:v1 http://h/live key:k';

/** A member's side of the election: what it was told, and whether it may lead. */
function member(locks: FakeLocks, env: FakeEnv, id: string) {
  const told: string[] = [];
  const state = { following: true };
  const election = new Election(
    locks,
    GROUP,
    id,
    {
      mayLead: () => state.following,
      elected: () => {
        state.following = false;
        told.push('elected');
      },
      deposed: () => {
        state.following = true;
        told.push('deposed');
      },
    },
    new TimerSlot(env.timers),
  );
  return { election, told, state };
}

describe('tab group election', () => {
  it('elects the first member to ask; the next leads once the first stops', async () => {
    const env = fakeEnv();
    const locks = new FakeLocks();
    const a = member(locks, env, 'a');
    const b = member(locks, env, 'b');
    a.election.start();
    b.election.start();
    await flush();
    expect(a.told).toEqual(['elected']);
    expect(b.told).toEqual([]);
    a.election.stop();
    await flush();
    expect(b.told).toEqual(['elected']);
    expect(locks.holders.has(GROUP)).toBe(true);
    b.election.stop();
    await flush();
    expect(locks.holders.size).toBe(0);
    expect(locks.waiting).toEqual([]);
  });

  it('takes the lock from a silent leader after its rank, and the deposed leader queues again', async () => {
    const env = fakeEnv();
    const locks = new FakeLocks();
    const a = member(locks, env, 'a');
    const b = member(locks, env, 'b');
    a.election.start();
    b.election.start();
    await flush();
    b.election.takeOver(2);
    await env.advance(2 * TAKEOVER_STAGGER_MS - 1);
    expect(b.told).toEqual([]);
    await env.advance(1);
    expect(b.told).toEqual(['elected']);
    expect(a.told).toEqual(['elected', 'deposed']);
    // The deposed leader waits in line: it leads again when the new one goes.
    b.election.stop();
    await flush();
    expect(a.told).toEqual(['elected', 'deposed', 'elected']);
  });

  it('calls a takeover off when the leader is heard before it is due', async () => {
    const env = fakeEnv();
    const locks = new FakeLocks();
    const a = member(locks, env, 'a');
    const b = member(locks, env, 'b');
    a.election.start();
    b.election.start();
    await flush();
    b.election.takeOver(1);
    await env.advance(TAKEOVER_STAGGER_MS - 10);
    b.election.heard();
    await env.advance(10 * TAKEOVER_STAGGER_MS);
    expect(b.told).toEqual([]);
    expect(a.told).toEqual(['elected']);
  });

  it('gives the lock to the next in line on resign, and queues for it again', async () => {
    const env = fakeEnv();
    const locks = new FakeLocks();
    const a = member(locks, env, 'a');
    const b = member(locks, env, 'b');
    a.election.start();
    b.election.start();
    await flush();
    a.state.following = true;
    a.election.resign();
    await flush();
    expect(b.told).toEqual(['elected']);
    b.election.stop();
    await flush();
    expect(a.told).toEqual(['elected', 'elected']);
  });

  it('gives back a grant that comes when the member may no longer lead', async () => {
    const env = fakeEnv();
    const locks = new FakeLocks();
    const a = member(locks, env, 'a');
    const b = member(locks, env, 'b');
    b.state.following = false;
    b.election.start();
    a.election.start();
    await flush();
    expect(b.told).toEqual([]);
    expect(a.told).toEqual(['elected']);
  });

  it('names the members whose tab is alive by their member lock', async () => {
    const env = fakeEnv();
    const locks = new FakeLocks();
    const a = member(locks, env, 'a');
    const b = member(locks, env, 'b');
    a.election.start();
    b.election.start();
    await flush();
    expect(await a.election.alive()).toEqual(new Set(['a', 'b']));
    b.election.stop();
    await flush();
    expect(await a.election.alive()).toEqual(new Set(['a']));
    const blind = new Election(
      { request: locks.request.bind(locks) },
      GROUP,
      'c',
      { mayLead: () => true, elected: () => {}, deposed: () => {} },
      new TimerSlot(env.timers),
    );
    expect(await blind.alive()).toBeNull();
  });

  it('ranks followers by id for a takeover, the silent leader left out', () => {
    const roster = ['d', 'b', 'leader', 'c'];
    expect(takeoverRank('b', roster, 'leader')).toBe(0);
    expect(takeoverRank('c', roster, 'leader')).toBe(1);
    expect(takeoverRank('d', roster, 'leader')).toBe(2);
    expect(takeoverRank('newcomer', roster, 'leader')).toBe(3);
    expect(takeoverRank('leader', roster, null)).toBe(3);
  });
});
