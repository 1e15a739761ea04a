import type { Buffer } from 'node:buffer';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SharedBytes, Sink } from './sink';

/**
 * The Node adapter's sinks: a stream's `ServerResponse` written through `res.write`, or, on
 * HTTP/1.1, its chunks framed here and written straight to the socket.
 */

/**
 * Node's Buffer, read from the runtime instead of imported: `tandem/server` then loads on a
 * runtime without Node's modules (a worker serving `hub.fetch`), where it is undefined and
 * `hub.node`, which alone uses it, refuses to be created. Bun and Deno have it too.
 */
export const NodeBuffer = runtimeBuffer();

function runtimeBuffer(): typeof Buffer {
  const runtime = globalThis as {
    Buffer?: typeof Buffer;
    process?: { getBuiltinModule?: (id: string) => { Buffer?: typeof Buffer } | undefined };
  };
  return (runtime.Buffer ?? runtime.process?.getBuiltinModule?.('node:buffer')?.Buffer) as typeof Buffer;
}

const CRLF = new Uint8Array([13, 10]);

/**
 * One chunk of HTTP/1.1 chunked transfer coding around `bytes`: size in hex, CRLF, bytes, CRLF.
 * `bytes` must not be empty: a chunk of size 0 is the last one.
 */
function chunkFrame(bytes: Uint8Array): Buffer {
  return NodeBuffer.concat([NodeBuffer.from(`${bytes.length.toString(16)}\r\n`, 'latin1'), bytes, CRLF]);
}

/**
 * Shared bytes as one HTTP/1.1 chunk, framed by the first stream that writes them and kept on
 * them for the others: a fan-out to thousands of sockets writes one Buffer, built once.
 */
function framedOf(shared: SharedBytes): Buffer {
  shared.framed ??= chunkFrame(shared.plain);
  return shared.framed as Buffer;
}

/**
 * A stream's `ServerResponse` as a `Sink`, through `res.write`: HTTP/1.0 (no chunked coding)
 * and HTTP/2. A class rather than an object of closures: its methods live once on the
 * prototype, not once per connection.
 */
export class ResponseSink implements Sink {
  constructor(protected readonly res: ServerResponse) {}

  write(chunk: Uint8Array): boolean {
    const { res } = this;
    if (res.destroyed || res.writableEnded) return false;
    res.write(chunk);
    return true;
  }

  writeParts(parts: readonly Uint8Array[], total: number): boolean {
    return this.write(NodeBuffer.concat(parts, total));
  }

  writeShared(shared: SharedBytes): boolean {
    return this.write(shared.plain);
  }

  buffered(): number {
    return this.res.writableLength;
  }

  drained(): Promise<void> {
    return drainOf(this.res, () => this.buffered());
  }

  end(last: Uint8Array): void {
    if (!this.res.destroyed && !this.res.writableEnded) this.res.end(last);
    else this.res.end();
  }

  endShared(last: SharedBytes): void {
    this.end(last.plain);
  }

  destroy(): void {
    this.res.destroy();
  }
}

/**
 * An HTTP/1.1 stream that writes its chunks straight to the socket, each framed once: a
 * fan-out's chunk is framed once for every subscriber (`framedOf`), so a delivery is
 * one `socket.write` of a shared Buffer. Through `res.write` each write also pays for its own
 * size line, a cork, a tick and a four-buffer `writev`: 7.8 against 4.0 µs per 100-byte
 * delivery to 1 000 loopback streams, most of it CPU spent in Node rather than the kernel.
 * `res` still sends the headers (with the first chunk) and the last chunk at the end, so the
 * response ends as HTTP/1.1 says and the connection stays reusable.
 */
export class SocketSink extends ResponseSink {
  private headersSent = false;

  constructor(
    res: ServerResponse,
    private readonly socket: Socket,
  ) {
    super(res);
  }

  override write(chunk: Uint8Array): boolean {
    // An empty chunk would read as the last one and end the body.
    if (chunk.length === 0) return !this.socket.destroyed;
    if (!this.headersSent) {
      this.headersSent = true;
      return super.write(chunk);
    }
    return this.writeFramed(chunkFrame(chunk));
  }

  override writeShared(shared: SharedBytes): boolean {
    return this.headersSent ? this.writeFramed(framedOf(shared)) : this.write(shared.plain);
  }

  /**
   * The parts framed as one HTTP/1.1 chunk in one Buffer, filled once and not zeroed first:
   * joining them and then framing the join copied each replay chunk twice (bench H's replay
   * storm writes 3 GB).
   */
  override writeParts(parts: readonly Uint8Array[], total: number): boolean {
    if (!this.headersSent || total === 0) return super.writeParts(parts, total);
    const head = `${total.toString(16)}\r\n`;
    const framed = NodeBuffer.allocUnsafe(head.length + total + 2);
    let at = framed.write(head, 0, 'latin1');
    for (const part of parts) {
      framed.set(part, at);
      at += part.length;
    }
    framed[at] = 13;
    framed[at + 1] = 10;
    return this.writeFramed(framed);
  }

  private writeFramed(framed: Buffer): boolean {
    const { socket } = this;
    if (socket.destroyed || this.res.writableEnded) return false;
    socket.write(framed);
    return true;
  }

  override end(last: Uint8Array, close = false): void {
    // An empty chunk would read as the last one: send none rather than end the body twice.
    if (this.headersSent) this.finish(last.length > 0 ? chunkFrame(last) : null);
    else super.end(last);
    if (close) this.closeAfter();
  }

  override endShared(last: SharedBytes, close = false): void {
    if (this.headersSent) this.finish(framedOf(last));
    else super.end(last.plain);
    if (close) this.closeAfter();
  }

  /**
   * Closes the connection once the response's last bytes are sent: the server goes away, and a
   * client reusing the connection would reach it again instead of the process replacing it.
   */
  private closeAfter(): void {
    const { socket } = this;
    if (!socket.destroyed) socket.end();
  }

  /**
   * Sends the last bytes as a chunk of their own (a bye is framed once for every stream), then
   * lets `res` end the body, so the connection stays good for the client's next request.
   * Closing it instead would halve the cost of a bye (S5: `disconnect()` of 10 000 streams,
   * 560 → 290 ms) but a client that reuses the connection at once, as Node's agent does, would
   * meet a closed socket. Only a shutdown closes it (`closeAfter`), after the last chunk.
   */
  private finish(framed: Buffer | null): void {
    const { socket } = this;
    if (socket.destroyed) return;
    // Corked: the bye and the last chunk leave in one system call.
    socket.cork();
    if (framed) socket.write(framed);
    this.res.end();
    socket.uncork();
  }

  // `buffered()` is the base's: a response's writableLength counts its socket's bytes too.
  override drained(): Promise<void> {
    return drainOf(this.socket, () => this.buffered());
  }
}

/** Resolves when `stream` has nothing left to send, drains or closes. */
function drainOf(stream: ServerResponse | Socket, buffered: () => number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (stream.destroyed || buffered() === 0) {
      resolve();
      return;
    }
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
