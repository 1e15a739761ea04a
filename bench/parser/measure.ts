/**
 * The parser comparison's measuring process: Tandem's `createParser` against eventsource-parser
 * on the same stream, alternating pass by pass in one process. Bundled and run with plain node
 * (scenarios/p-parser.ts), pinned to the server's core; prints one JSON line of results.
 *
 * The stream is Tandem's own wire format: `id:` (a cursor), `event:` and one `data:` line of
 * JSON per event, `size` bytes per frame. It is fed as text (the parsers alone) and as UTF-8
 * bytes (Tandem's parser decodes them itself; eventsource-parser gets a streaming TextDecoder
 * in front, as its own stream wrapper does), either one frame per chunk (a live stream) or in
 * 64 KiB chunks cut anywhere (a backlog read off the socket).
 */
import { createParser as createEventsourceParser } from 'eventsource-parser';
import { createParser as createTandemParser } from '../../packages/tandem/src/protocol';

export interface ParserCase {
  size: number;
  input: 'text' | 'bytes';
  chunking: 'frame' | '64k';
}

export interface ParserCaseResult extends ParserCase {
  streamBytes: number;
  events: number;
  /** MB/s (10^6 bytes of stream per second) of each measured pass, in the order they ran. */
  tandem: number[];
  eventsourceParser: number[];
}

const CHUNK = 64 * 1024;

/** One frame of `size` bytes, as Tandem's server writes it. */
function frame(i: number, size: number): string {
  const id = `id: ${(1_000_000 + i).toString(36)}.k3j9x0a1b2\n`;
  const head = `event: order.updated\ndata: {"channel":"tenant:acme/orders","offset":${i},"epoch":"k3j9x0a1b2","ts":1764460800000,"type":"order.updated","data":{"p":"`;
  const tail = '"}}\n\n';
  const pad = Math.max(0, size - id.length - head.length - tail.length);
  return `${id}${head}${'x'.repeat(pad)}${tail}`;
}

function makeStream(size: number): string[] {
  const frames: string[] = [];
  let total = 0;
  // About 4 MB of stream per pass, whatever the event size.
  for (let i = 0; total < 4_000_000; i++) {
    const f = frame(i, size);
    frames.push(f);
    total += f.length;
  }
  return frames;
}

function chunksOf(frames: string[], c: ParserCase): (string | Uint8Array)[] {
  if (c.chunking === 'frame') {
    if (c.input === 'text') return frames;
    const utf8 = new TextEncoder();
    return frames.map((f) => utf8.encode(f));
  }
  const whole = frames.join('');
  if (c.input === 'text') {
    const out: string[] = [];
    for (let i = 0; i < whole.length; i += CHUNK) out.push(whole.slice(i, i + CHUNK));
    return out;
  }
  const bytes = new TextEncoder().encode(whole);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) out.push(bytes.subarray(i, i + CHUNK));
  return out;
}

interface Tally {
  events: number;
  dataChars: number;
}

// Each parser gets callbacks of its own, so that no call site sees both parsers' event shapes.
function passTandem(chunks: readonly (string | Uint8Array)[], tally: Tally): void {
  const parser = createTandemParser({
    onEvent: (event) => {
      tally.events++;
      tally.dataChars += event.data.length;
    },
  });
  for (let i = 0; i < chunks.length; i++) parser.feed(chunks[i]!);
}

const STREAM = { stream: true };
function passEventsourceParser(chunks: readonly (string | Uint8Array)[], tally: Tally): void {
  const parser = createEventsourceParser({
    onEvent: (event) => {
      tally.events++;
      tally.dataChars += event.data.length;
    },
  });
  if (typeof chunks[0] === 'string') {
    for (let i = 0; i < chunks.length; i++) parser.feed(chunks[i] as string);
    return;
  }
  const decoder = new TextDecoder();
  for (let i = 0; i < chunks.length; i++) parser.feed(decoder.decode(chunks[i] as Uint8Array, STREAM));
}

const passes = { tandem: passTandem, eventsourceParser: passEventsourceParser };

/**
 * Times `reps` passes of one parser over the chunks; returns MB per CPU-second. CPU time, not
 * wall time: on a shared machine the process may wait for its core, and waiting is not parsing.
 */
function time(
  which: keyof typeof passes,
  chunks: readonly (string | Uint8Array)[],
  bytes: number,
  reps: number,
) {
  const tally: Tally = { events: 0, dataChars: 0 };
  const t0 = process.cpuUsage();
  for (let r = 0; r < reps; r++) passes[which](chunks, tally);
  const t = process.cpuUsage(t0);
  return { mbps: (bytes * reps) / (t.user + t.system), tally };
}

const SAMPLE_MS = 60;

function repsFor(
  chunks: readonly (string | Uint8Array)[],
  bytes: number,
  which: keyof typeof passes,
): number {
  const { mbps } = time(which, chunks, bytes, 3);
  const passMs = (bytes / 1e6 / mbps) * 1000;
  return Math.max(1, Math.ceil(SAMPLE_MS / passMs));
}

export function measureCase(c: ParserCase, rounds: number): ParserCaseResult {
  const frames = makeStream(c.size);
  const streamBytes = frames.reduce((n, f) => n + f.length, 0);
  const chunks = chunksOf(frames, c);
  // Warm both up, and check they read the same events.
  const a = time('tandem', chunks, streamBytes, 3);
  const b = time('eventsourceParser', chunks, streamBytes, 3);
  if (
    a.tally.events !== frames.length * 3 ||
    a.tally.events !== b.tally.events ||
    a.tally.dataChars !== b.tally.dataChars
  )
    throw new Error(
      `parsers disagree on ${JSON.stringify(c)}: ${JSON.stringify({ a, b, frames: frames.length })}`,
    );
  // Enough passes for each sample to last about SAMPLE_MS, so that timer and scheduler noise stay small.
  const reps = {
    tandem: repsFor(chunks, streamBytes, 'tandem'),
    eventsourceParser: repsFor(chunks, streamBytes, 'eventsourceParser'),
  };
  const result: ParserCaseResult = {
    ...c,
    streamBytes,
    events: frames.length,
    tandem: [],
    eventsourceParser: [],
  };
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first, so neither always runs on the other's garbage.
    const order: (keyof typeof passes)[] =
      r % 2 === 0 ? ['tandem', 'eventsourceParser'] : ['eventsourceParser', 'tandem'];
    for (const which of order) result[which].push(time(which, chunks, streamBytes, reps[which]).mbps);
  }
  return result;
}

const [, , arg] = process.argv;
if (arg) {
  const { cases, rounds } = JSON.parse(arg) as { cases: ParserCase[]; rounds: number };
  const results = cases.map((c) => measureCase(c, rounds));
  process.stdout.write(`${JSON.stringify(results)}\n`);
}
