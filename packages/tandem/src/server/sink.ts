/**
 * Where a stream's bytes go: a Node `ServerResponse` or a Fetch `ReadableStream`. The adapters
 * implement it; the connection only writes, measures and ends.
 */
export interface Sink {
  /** Queues bytes for the client; false when the connection is already gone. */
  write(chunk: Uint8Array): boolean;
  /** Bytes accepted but not yet handed to the network. */
  buffered(): number;
  /** Resolves once the buffered bytes were sent, or the sink closed. */
  drained(): Promise<void>;
  /** Ends the response after the queued bytes, and after `last` when given (one write, not two). */
  end(last?: Uint8Array): void;
  /** Drops the connection now, discarding unsent bytes (a slow consumer's buffer is freed at once). */
  destroy(): void;
}
