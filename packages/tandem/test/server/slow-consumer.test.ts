import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openRaw, type RawStream } from './sse-reader';

const MiB = 1024 * 1024;
const FIXTURE = fileURLToPath(new URL('./fixtures/slow-server.ts', import.meta.url));

interface Figures {
  published: number;
  connections: number;
  heapUsed: number;
  arrayBuffers: number;
  rss: number;
  peakBuffered: number;
}

let child: ChildProcess | undefined;
const streams: RawStream[] = [];
afterEach(() => {
  for (const stream of streams.splice(0)) stream.close();
  child?.kill('SIGTERM');
  child = undefined;
});

/** Starts the hub in its own process, so its memory is measured alone. */
async function startServer(): Promise<string> {
  child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', FIXTURE], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return `http://127.0.0.1:${(JSON.parse(line.toString()) as { port: number }).port}`;
}

describe('backpressure', () => {
  it('cuts a client that stops reading at maxBufferedBytes; server memory stays bounded; others keep receiving', async () => {
    const url = await startServer();
    const publish = async (n: number) => (await (await fetch(`${url}/publish?n=${n}`)).json()) as Figures;

    const slow = await openRaw(`${url}/stream?channels=feed`);
    const fast = await Promise.all(
      [1, 2, 3].map(() => openRaw(`${url}/stream?channels=feed`, {}, { keep: false })),
    );
    streams.push(slow, ...fast);
    await Promise.all([slow, ...fast].map((s) => s.next((e) => e.type === 'tandem:hello')));
    slow.pause();

    const baseline = await publish(0);
    let figures = baseline;
    let peakHeap = 0;
    // Publish until the slow client is cut (at most 200 MiB), then 80 MiB more.
    let cutAt = -1;
    while (figures.published < 12_800) {
      figures = await publish(32);
      peakHeap = Math.max(peakHeap, figures.heapUsed + figures.arrayBuffers);
      if (cutAt < 0 && figures.connections === 3) cutAt = figures.published;
      if (cutAt >= 0 && figures.published >= cutAt + 5120) break;
    }
    expect(cutAt).toBeGreaterThan(0);

    // Every fast client got every event, in order.
    for (const stream of fast) {
      await stream.next(
        () => stream.last?.type === 'blob' && JSON.parse(stream.last.data).data.n === figures.published - 1,
        120_000,
      );
      // Every event once; heartbeats (with the heads) may come between them.
      expect(stream.appCount).toBe(figures.published);
    }

    const growth = peakHeap - (baseline.heapUsed + baseline.arrayBuffers);
    console.log(
      `slow consumer: cut after ${((cutAt * 16 * 1024) / MiB).toFixed(1)} MiB published; ` +
        `${((figures.published * 16 * 1024) / MiB).toFixed(0)} MiB published in all; ` +
        `peak unsent bytes of a stream ${(figures.peakBuffered / 1024).toFixed(0)} KiB; ` +
        `server heap+arrayBuffers growth at peak (after GC) ${(growth / MiB).toFixed(1)} MiB; rss ${(figures.rss / MiB).toFixed(0)} MiB`,
    );
    // Unsent bytes of one stream never went past the limit by more than one coalesced write,
    // and the server did not grow with what was published (80+ MiB).
    expect(figures.peakBuffered).toBeLessThan(MiB + 32 * 17 * 1024);
    expect(growth).toBeLessThan(24 * MiB);
    // Up to 200 MiB go through three readers: minutes on a machine busy with other work, so the
    // bounds are generous; what is asserted is memory and order, not speed.
  }, 300_000);
});
