/**
 * What an idempotency key costs a Redis publish: the redis-server process's CPU time per append
 * (user + system, from /proc: the script and the network work around it), with no key, with a
 * new key each time, and for a retry of a key already accepted, one at a time and 100 at once on
 * one channel. Rounds alternate the variants so that each is measured beside the baseline in
 * the same run.
 *
 *   npx tsx --conditions=tandem-source bench/redis-appends.ts [rounds=5] [appends=10000]
 */
import { redisBroker } from '../packages/tandem/src/redis';
import { cpuBetween, sampleProcess } from './lib/proc';
import { startRedis } from './lib/redis';

const rounds = Number(process.argv[2] ?? 5);
const appends = Number(process.argv[3] ?? 10_000);

type Variant = 'no key' | 'new key' | 'retry';
const variants: Variant[] = ['no key', 'new key', 'retry'];

async function main(): Promise<void> {
  const server = await startRedis(undefined);
  const broker = redisBroker({ url: server.url, prefix: 'bench' });
  await broker.ready();

  let serial = 0;
  const run = async (variant: Variant, concurrency: number): Promise<number> => {
    const channel = `c${serial++}`;
    // A retry needs a key accepted first.
    if (variant === 'retry') await broker.append(channel, 't', 0, undefined, { idempotencyKey: 'once' });
    const key = (i: number) =>
      variant === 'no key' ? undefined : { idempotencyKey: variant === 'retry' ? 'once' : `k${i}` };
    const before = sampleProcess(server.pid);
    for (let i = 0; i < appends; i += concurrency) {
      await Promise.all(
        Array.from({ length: Math.min(concurrency, appends - i) }, (_, k) =>
          broker.append(channel, 't', { i: i + k }, undefined, key(i + k)),
        ),
      );
    }
    return (cpuBetween(before, sampleProcess(server.pid)) * 1e6) / appends;
  };

  const results = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const concurrency of [1, 100]) {
      // Alternate the order each round so that no variant always runs first.
      const order = round % 2 ? [...variants].reverse() : variants;
      for (const variant of order) {
        const name = `${variant}, ${concurrency} at once`;
        const list = results.get(name) ?? [];
        list.push(await run(variant, concurrency));
        results.set(name, list);
      }
    }
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`Redis CPU per append (µs, median of ${rounds} rounds × ${appends} appends):`);
  for (const concurrency of [1, 100]) {
    const base = median(results.get(`no key, ${concurrency} at once`)!);
    for (const variant of variants) {
      const value = median(results.get(`${variant}, ${concurrency} at once`)!);
      console.log(
        `  ${`${variant}, ${concurrency} at once`.padEnd(22)} ${value.toFixed(2).padStart(6)}  ×${(value / base).toFixed(2)}`,
      );
    }
  }
  await broker.close();
  await server.stop();
}

await main();
