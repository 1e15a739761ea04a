import { Buffer } from 'node:buffer';

const CRLF = Buffer.from('\r\n');

/**
 * One chunk of HTTP/1.1 chunked transfer coding around `bytes`: size in hex, CRLF, bytes, CRLF.
 * `bytes` must not be empty: a chunk of size 0 is the last one.
 */
export function chunkFrame(bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`, 'latin1'), bytes, CRLF]);
}

/**
 * Bytes written to many streams at once (a fan-out batch, a heartbeat). Each form is built once,
 * on first use, and shared by every stream: `plain` for sinks that frame nothing themselves,
 * `framed` (one HTTP/1.1 chunk) for sinks that write to the socket directly.
 */
export class SharedBytes {
  private plainBytes: Buffer | undefined;
  private framedBytes: Buffer | undefined;

  constructor(private readonly build: () => Buffer) {}

  get plain(): Buffer {
    this.plainBytes ??= this.build();
    return this.plainBytes;
  }

  get framed(): Buffer {
    this.framedBytes ??= chunkFrame(this.plain);
    return this.framedBytes;
  }
}

/**
 * Where a stream's bytes go: a Node `ServerResponse` or a Fetch `ReadableStream`. The adapters
 * implement it; the connection only writes, measures and ends.
 */
export interface Sink {
  /** Queues bytes for the client; false when the connection is already gone. */
  write(chunk: Uint8Array): boolean;
  /** Queues bytes shared with other streams, in whichever form this sink takes them. */
  writeShared(shared: SharedBytes): boolean;
  /** Bytes accepted but not yet handed to the network. */
  buffered(): number;
  /** Resolves once the buffered bytes were sent, or the sink closed. */
  drained(): Promise<void>;
  /** Ends the response after the queued bytes and `last` (one write, not two). */
  end(last: Uint8Array): void;
  /** Ends the response with bytes shared with other streams (a bye sent to thousands at once). */
  endShared(last: SharedBytes): void;
  /** Drops the connection now, discarding unsent bytes (a slow consumer's buffer is freed at once). */
  destroy(): void;
}
