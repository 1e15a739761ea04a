/**
 * Z's compressors: what a per-connection gzip or brotli stream, flushed after every event,
 * costs and saves next to writing the frame as it is. Each connection gets its own compressor
 * (its window is the stream's history, which is what makes small events compress at all); every
 * event is written to every connection and flushed (Z_SYNC_FLUSH, BROTLI_OPERATION_FLUSH) as a
 * hub would before the next one. CPU is this process's, zlib's thread pool included.
 *
 * One more codec shares the work instead: each event deflated once, on its own (no window
 * across events), ending in a sync flush, and the same bytes written to every connection after
 * a gzip header of its own. A deflate stream may be a run of such blocks, so every connection
 * still reads one valid gzip stream; each connection's output is decoded to check that.
 */
import { PassThrough, type Transform } from 'node:stream';
import zlib from 'node:zlib';

export interface Codec {
  name: string;
  create(): Transform;
  /** Flushes what was written so far as complete output. */
  flush(stream: Transform, done: () => void): void;
  /** The bytes for every connection, compressed once per event (the streams pass them on). */
  shared?: (frame: Buffer) => Buffer;
  /** Decodes what a connection received, to check it is the frames. */
  decode(received: Buffer): Buffer;
}

const { constants } = zlib;
const gzipFlush = (s: Transform, done: () => void) => (s as zlib.Gzip).flush(constants.Z_SYNC_FLUSH, done);
const brotliFlush = (s: Transform, done: () => void) =>
  (s as zlib.BrotliCompress).flush(constants.BROTLI_OPERATION_FLUSH, done);
const brotli = (quality: number, lgwin: number) => () =>
  zlib.createBrotliCompress({
    params: {
      [constants.BROTLI_PARAM_QUALITY]: quality,
      [constants.BROTLI_PARAM_LGWIN]: lgwin,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
    },
  });

const gunzip = (b: Buffer) => zlib.gunzipSync(b, { finishFlush: constants.Z_SYNC_FLUSH });
const unbrotli = (b: Buffer) =>
  zlib.brotliDecompressSync(b, { finishFlush: constants.BROTLI_OPERATION_FLUSH });
const passOn = (_s: Transform, done: () => void) => done();
/** A gzip member's header: deflate, no name, no time, unknown OS. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

export const CODECS: Codec[] = [
  { name: 'none', create: () => new PassThrough(), flush: passOn, decode: (b) => b },
  {
    name: 'gzip 6, window 32 KiB (default)',
    create: () => zlib.createGzip(),
    flush: gzipFlush,
    decode: gunzip,
  },
  {
    name: 'gzip 6, window 4 KiB, memLevel 5',
    create: () => zlib.createGzip({ windowBits: 12, memLevel: 5 }),
    flush: gzipFlush,
    decode: gunzip,
  },
  {
    name: 'gzip 1, window 4 KiB, memLevel 5',
    create: () => zlib.createGzip({ level: 1, windowBits: 12, memLevel: 5 }),
    flush: gzipFlush,
    decode: gunzip,
  },
  // Brotli's stream default is quality 11, far too slow to flush per event; 4 is a server's usual.
  { name: 'brotli 4, window 4 MiB (lgwin 22)', create: brotli(4, 22), flush: brotliFlush, decode: unbrotli },
  { name: 'brotli 4, window 64 KiB (lgwin 16)', create: brotli(4, 16), flush: brotliFlush, decode: unbrotli },
  {
    name: 'gzip 6, each event once for all',
    create: () => {
      const s = new PassThrough();
      s.write(GZIP_HEADER);
      return s;
    },
    flush: passOn,
    shared: (frame) => zlib.deflateRawSync(frame, { finishFlush: constants.Z_SYNC_FLUSH }),
    decode: gunzip,
  },
];

export interface CodecFigures {
  /** Bytes out per delivery after the first event (steady state). */
  bytesPerDelivery: number;
  /** Bytes out for a connection's first event (headers, empty window). */
  firstBytes: number;
  /** CPU µs per delivery over the steady-state events. */
  cpuUsPerDelivery: number;
}

const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** Writes `frame` to every stream and waits until each has flushed it. */
export function deliver(streams: Transform[], codec: Codec, frame: Buffer): Promise<void> {
  const bytes = codec.shared ? codec.shared(frame) : frame;
  return new Promise((resolve) => {
    let pending = streams.length;
    const done = () => {
      if (--pending === 0) resolve();
    };
    for (const s of streams) {
      s.write(bytes);
      codec.flush(s, done);
    }
  });
}

/** `connections` streams through `codec`, receiving `frames` in order (the first one warms up). */
export async function measureCodec(
  codec: Codec,
  frames: Buffer[],
  connections: number,
): Promise<CodecFigures> {
  const streams: Transform[] = [];
  let bytes = 0;
  const firstConnection: Buffer[] = [];
  for (let i = 0; i < connections; i++) {
    const s = codec.create();
    s.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (i === 0) firstConnection.push(chunk);
    });
    streams.push(s);
  }
  // A PassThrough may hand on what was written in a later tick: count after one.
  const settled = () => new Promise((resolve) => setImmediate(resolve));
  await deliver(streams, codec, frames[0]!);
  await settled();
  const firstBytes = bytes / connections;
  bytes = 0;
  const cpu = cpuMicros();
  for (let i = 1; i < frames.length; i++) await deliver(streams, codec, frames[i]!);
  await settled();
  const cpuUs = cpuMicros() - cpu;
  const deliveries = connections * (frames.length - 1);
  if (!codec.decode(Buffer.concat(firstConnection)).equals(Buffer.concat(frames)))
    throw new Error(`${codec.name}: a connection's bytes do not decode to the frames`);
  const figures: CodecFigures = {
    bytesPerDelivery: bytes / deliveries,
    firstBytes,
    cpuUsPerDelivery: cpuUs / deliveries,
  };
  await Promise.all(
    streams.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          s.destroy();
        }),
    ),
  );
  return figures;
}
