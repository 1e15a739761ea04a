import { afterEach, describe, expect, it } from 'vitest';
import { type Rig, recordedClient, sleep, startRig, until } from './harness';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe('a mass drop', () => {
  // The pure version with 1 000 state machines on a manual clock is in client.test.ts; this one
  // uses real clients, sockets and a real hub, and measures at the proxy when they come back.
  it('spreads the first reconnects of real clients cut at the same moment over the drop window', async () => {
    const N = 200;
    rig = await startRig();
    const clients = Array.from({ length: N }, (_, i) =>
      recordedClient({ url: rig!.url, channels: [`herd:${i % 10}`], poll: { enabled: false } }),
    );
    expect(await until(() => clients.every((c) => c.client.getState().status === 'open'), 20_000)).toBe(true);
    // Stable (attempt counters reset), then everyone is cut at once.
    await sleep(2_500);
    rig.proxy.resetLog();
    const cutAt = Date.now();
    expect(rig.proxy.cut('rst')).toBeGreaterThanOrEqual(N);
    expect(await until(() => rig!.proxy.acceptedAt.length >= N, 10_000)).toBe(true);
    expect(await until(() => clients.every((c) => c.client.getState().status === 'open'), 10_000)).toBe(true);

    const firsts = rig.proxy.acceptedAt.slice(0, N).map((t) => t - cutAt);
    const buckets = new Map<number, number>();
    for (const t of firsts) buckets.set(Math.floor(t / 100), (buckets.get(Math.floor(t / 100)) ?? 0) + 1);
    const largest = Math.max(...buckets.values());
    console.info(
      `herd: ${N} clients back within ${Math.max(...firsts)} ms; largest 100 ms bucket ${largest} (${Math.round((largest / N) * 100)}%)`,
    );
    expect(largest / N).toBeLessThanOrEqual(0.2);
    for (const c of clients) c.client.close();
  }, 60_000);
});
