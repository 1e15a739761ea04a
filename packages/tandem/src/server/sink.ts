/**
 * Bytes written to many streams at once (a fan-out batch, a heartbeat). `plain` is built once,
 * on first use, and shared by every stream. `framed` holds a sink's own form of them, built by
 * the first sink that needs it and shared by the others: the Node adapter keeps there one
 * HTTP/1.1 chunk (a Buffer) for every socket it writes to directly.
 */
export class SharedBytes {
  private plainBytes: Uint8Array | undefined;
  framed: Uint8Array | undefined;

  constructor(private readonly build: () => Uint8Array) {}

  get plain(): Uint8Array {
    this.plainBytes ??= this.build();
    return this.plainBytes;
  }
}

/**
 * Where a stream's bytes go: a Node `ServerResponse` or a Fetch `ReadableStream`. The adapters
 * implement it; the connection only writes, measures and ends.
 */
export interface Sink {
  /** Queues bytes for the client; false when the connection is already gone. */
  write(chunk: Uint8Array): boolean;
  /**
   * Queues `parts` (`total` bytes in all) as one write, copying them at most once: a replay's
   * chunk is dozens of encoded frames, shared by every stream that replays them. Without it
   * the connection joins them first and calls `write`.
   */
  writeParts?(parts: readonly Uint8Array[], total: number): boolean;
  /** Queues bytes shared with other streams, in whichever form this sink takes them. */
  writeShared(shared: SharedBytes): boolean;
  /** Bytes accepted but not yet handed to the network. */
  buffered(): number;
  /** Resolves once the buffered bytes were sent, or the sink closed. */
  drained(): Promise<void>;
  /**
   * Ends the response after the queued bytes and `last` (one write, not two). With `close`
   * (the hub shuts down) the connection closes too where the adapter can close it, so that the
   * client's next request opens a new one, to the process that replaces this one.
   */
  end(last: Uint8Array, close?: boolean): void;
  /** Ends the response with bytes shared with other streams (a bye sent to thousands at once). */
  endShared(last: SharedBytes, close?: boolean): void;
  /** Drops the connection now, discarding unsent bytes (a slow consumer's buffer is freed at once). */
  destroy(): void;
}
