/**
 * Z's memory per connection: each compressor measured in a process of its own, since zlib and
 * brotli allocate their state with malloc, outside V8's heap, and freed memory is not given
 * back to the system in a way a later measurement in the same process could tell apart. The
 * child creates the connections' compressors, flushes `events` events through each (brotli
 * grows its ring buffer with the input), then reports heap + external and RSS growth.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CODECS, deliver } from './z-codecs';
import { frames } from './z-payloads';

const run = promisify(execFile);
const self = fileURLToPath(import.meta.url);

export interface MemoryFigures {
  /** V8 heap + external growth per connection (the stream objects and their output buffers). */
  heapPerConnection: number;
  /** Resident memory growth per connection: the compressor's native state included. */
  rssPerConnection: number;
}

interface Job {
  codec: number;
  size: number;
  connections: number;
  events: number;
}

export async function measureMemory(job: Job): Promise<MemoryFigures> {
  const { stdout } = await run(process.execPath, [
    ...process.execArgv,
    '--expose-gc',
    self,
    JSON.stringify(job),
  ]);
  return JSON.parse(stdout.trim().split('\n').pop()!) as MemoryFigures;
}

async function child(job: Job): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const codec = CODECS[job.codec]!;
  const list = frames(job.size, job.events, 'compact');
  const sample = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return { heap: m.heapUsed + m.external, rss: m.rss };
  };
  const before = sample();
  const streams = Array.from({ length: job.connections }, () => {
    const s = codec.create();
    s.on('data', () => {});
    return s;
  });
  for (const frame of list) await deliver(streams, codec, frame);
  const after = sample();
  const figures: MemoryFigures = {
    heapPerConnection: (after.heap - before.heap) / job.connections,
    rssPerConnection: (after.rss - before.rss) / job.connections,
  };
  // Keeps the streams alive until after the sample.
  if (streams.length < 0) console.log(streams);
  console.log(JSON.stringify(figures));
}

if (process.argv[1] === self) await child(JSON.parse(process.argv[2]!) as Job);
