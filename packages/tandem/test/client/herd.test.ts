import { type ChildProcess, fork } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FetchLike } from '../../src/client';
import { sleep, until } from '../helpers/wait';
import { type Recording, recordedClient } from './harness';

let child: ChildProcess;
let url = '';

function request<T>(message: object, key: string): Promise<T> {
  return new Promise((done) => {
    const onMessage = (reply: Record<string, unknown>) => {
      if (key in reply) {
        child.off('message', onMessage);
        done(reply[key] as T);
      }
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

beforeAll(async () => {
  child = fork(resolve(import.meta.dirname, 'herd-server.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  url = await new Promise<string>((done) => child.once('message', (m: { url: string }) => done(m.url)));
}, 30_000);

afterAll(async () => {
  if (child?.connected) await request({ cmd: 'close' }, 'closed');
  child?.kill();
});

describe('a mass drop', () => {
  // The acceptance version, 1 000 state machines on a manual clock, is in client.test.ts. This
  // one uses real clients and sockets against a real hub (in another process) and records when
  // each client actually makes its first reconnect attempt.
  it('spreads the first reconnects of real clients cut at the same moment over the drop window', async () => {
    const N = 200;
    const attempts: number[][] = Array.from({ length: N }, () => []);
    // Each client's random draws, with when they were made: the first draw after the cut is the
    // jitter of its reconnect, i.e. the delay it chose. Timers on a loaded machine fire late and
    // in clumps, so the spread is judged on the chosen delays; the attempts must then follow them.
    const draws: Array<Array<{ at: number; value: number }>> = Array.from({ length: N }, () => []);
    const clients: Recording[] = Array.from({ length: N }, (_, i) => {
      const fetchLike: FetchLike = (input, init) => {
        if (input.includes('/stream?')) attempts[i]!.push(Date.now());
        return fetch(input, init);
      };
      return recordedClient({
        url,
        channels: [`herd:${i % 10}`],
        poll: { enabled: false },
        fetch: fetchLike,
        random: () => {
          const value = Math.random();
          draws[i]!.push({ at: Date.now(), value });
          return value;
        },
      });
    });
    expect(await until(() => clients.every((c) => c.client.getState().status === 'open'), 30_000)).toBe(true);
    // Stable (attempt counters reset), then everyone is cut at once.
    await sleep(2_500);
    for (const list of attempts) list.length = 0;
    const cutAt = Date.now();
    expect(await request<number>({ cmd: 'cut' }, 'cut')).toBeGreaterThanOrEqual(N);
    expect(await until(() => attempts.every((list) => list.length > 0), 10_000)).toBe(true);
    expect(await until(() => clients.every((c) => c.client.getState().status === 'open'), 10_000)).toBe(true);

    const DROP_WINDOW_MS = 2_000; // the default backoff.dropWindowMs
    const chosen = draws.map((list) => {
      const draw = list.find((d) => d.at >= cutAt);
      expect(draw, 'every client chose a reconnect delay after the cut').toBeDefined();
      return Math.floor(draw!.value * DROP_WINDOW_MS);
    });
    // Each first attempt came no sooner than the delay its client chose.
    for (const [i, list] of attempts.entries())
      expect(list[0]! - cutAt).toBeGreaterThanOrEqual(chosen[i]! - 5);
    const buckets = new Map<number, number>();
    for (const t of chosen) buckets.set(Math.floor(t / 100), (buckets.get(Math.floor(t / 100)) ?? 0) + 1);
    const largest = Math.max(...buckets.values());
    const firsts = attempts.map((list) => list[0]! - cutAt);
    console.info(
      `herd: ${N} clients chose delays up to ${Math.max(...chosen)} ms (largest 100 ms bucket ${largest}, ${Math.round((largest / N) * 100)}%); first attempts within ${Math.max(...firsts)} ms of the cut`,
    );
    // Spread over the whole drop window (not the 100 ms of a first backoff), none bunched.
    expect(Math.max(...chosen)).toBeGreaterThan(DROP_WINDOW_MS / 2);
    expect(largest / N).toBeLessThanOrEqual(0.2);
    for (const c of clients) c.client.close();
  }, 60_000);
});
