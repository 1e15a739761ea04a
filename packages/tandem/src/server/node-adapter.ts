import { Buffer } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { extractToken, type HeaderReader, type HubRequest } from './auth';
import type { HubContext } from './context';
import { handle, route, type StreamOutcome } from './handler';
import type { SharedBytes, Sink } from './sink';

/** A node:http request handler; as Express/Connect middleware it passes other paths to `next`. */
export type NodeHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

const CRLF = Buffer.from('\r\n');

/**
 * One chunk of HTTP/1.1 chunked transfer coding around `bytes`: size in hex, CRLF, bytes, CRLF.
 * `bytes` must not be empty: a chunk of size 0 is the last one.
 */
function chunkFrame(bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`, 'latin1'), bytes, CRLF]);
}

/**
 * Shared bytes as one HTTP/1.1 chunk, framed by the first stream that writes them and kept on
 * them for the others: a fan-out to thousands of sockets writes one Buffer, built once.
 */
function framedOf(shared: SharedBytes): Buffer {
  shared.framed ??= chunkFrame(shared.plain);
  return shared.framed as Buffer;
}

/** Why a request's signal aborts: its response closed (client gone, or the response ended). */
const RESPONSE_CLOSED = new Error('the response closed');

/**
 * The node:http adapter: the fast path. Stream bytes go straight to `res.write`, backpressure is
 * read from `res.writableLength`, and the connection ends on `close` or `error` of the response.
 */
export function createNodeHandler(ctx: HubContext): NodeHandler {
  return (req, res, next) => {
    const request = new NodeRequest(req);
    if (next && !route(request.pathname, ctx.settings.basePath, ctx.settings.metricsEndpoint !== undefined)) {
      next();
      return;
    }
    request.token = extractToken(request.headers, { searchParams: request.query }, ctx.settings.tokenCookie);
    // Our own reason: the default one is a DOMException with a captured stack, built on every
    // response close: ~16 % of the CPU of a 304 poll (bench S6, 240 → 202 µs per poll).
    let aborted: AbortController | undefined;
    const abort = () => aborted!.abort(RESPONSE_CLOSED);
    const signal = () => {
      if (!aborted) {
        aborted = new AbortController();
        if (res.closed) aborted.abort(RESPONSE_CLOSED);
        else res.once('close', abort);
      }
      return aborted.signal;
    };
    handle(ctx, request, signal).then(
      (outcome) => {
        // The signal, if a long poll made one, is done with once the outcome is known.
        if (aborted) res.off('close', abort);
        if (outcome.kind === 'stream') {
          startStream(ctx, req, res, outcome);
        } else if (!res.headersSent && !res.destroyed) {
          const { body, headers } = outcome;
          // With the length known, Node sends the body as it is instead of in chunked coding
          // (a size line, the body, a last chunk): fewer bytes and fewer pieces to write.
          if (body !== null) headers['Content-Length'] = String(Buffer.byteLength(body));
          res.writeHead(outcome.status, headers);
          res.end(body ?? undefined);
        }
      },
      (error) => {
        ctx.reportError(error);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      },
    );
  };
}

/** A path the URL parser would leave as it is: no dot segments, escapes or leading `//`. */
const PLAIN_PATH = /^\/(?!\/)[A-Za-z0-9_~/-]*$/;

/**
 * A Node request as the hub sees it. Its URL is parsed only if a hook reads it: a plain path
 * and `URLSearchParams` for the query give the hub what it needs, for about a third of the
 * cost (`new URL` was ~15 % of the hub's own CPU per 304 poll).
 */
class NodeRequest implements HubRequest {
  readonly method: string;
  readonly pathname: string;
  readonly query: URLSearchParams;
  readonly headers: HeaderReader;
  token: string | null = null;
  private parsed: URL | undefined;

  constructor(readonly raw: IncomingMessage) {
    this.method = raw.method ?? 'GET';
    const target = raw.url ?? '/';
    const hash = target.indexOf('#');
    const end = hash === -1 ? target.length : hash;
    const mark = target.indexOf('?');
    const path = mark === -1 || mark > end ? target.slice(0, end) : target.slice(0, mark);
    if (PLAIN_PATH.test(path)) {
      this.pathname = path;
      this.query = new URLSearchParams(mark === -1 || mark > end ? '' : target.slice(mark + 1, end));
    } else {
      this.pathname = this.url.pathname;
      this.query = this.url.searchParams;
    }
    const { headers } = raw;
    this.headers = {
      get(name) {
        const value = headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    };
  }

  get url(): URL {
    this.parsed ??= new URL(this.raw.url ?? '/', 'http://localhost');
    return this.parsed;
  }
}

function startStream(
  ctx: HubContext,
  req: IncomingMessage,
  res: ServerResponse,
  outcome: StreamOutcome,
): void {
  const { connection } = outcome;
  if (res.destroyed) {
    connection.abort('aborted');
    return;
  }
  // The outcome's headers belong to this request: extend them in place.
  const { headers } = outcome;
  // On HTTP/1.1 the stream writes its chunks to the socket itself (see SocketSink): say so in
  // the headers rather than rely on Node choosing chunked coding. HTTP/1.0 and HTTP/2 go
  // through `res.write`; connection headers are HTTP/1.1 only (HTTP/2 forbids them).
  const http11 = req.httpVersionMajor === 1 && req.httpVersionMinor >= 1;
  // `Connection` and `Keep-Alive` are left to Node, which announces its server's real
  // `keepAliveTimeout` (and only when it sets `Connection` itself). A longer promise would have
  // clients reuse a socket the server already closed after a stream ended (rotation, bye) and
  // sat idle: the next request would fail with a reset.
  const socket = http11 ? res.socket : null;
  if (socket) headers['Transfer-Encoding'] = 'chunked';
  res.writeHead(200, headers);
  flattenHead(res);
  req.socket.setNoDelay?.(true);

  const sink = socket ? new SocketSink(res, socket) : new ResponseSink(res);
  ctx.sinks.add(sink);
  const closed = () => {
    connection.abort('aborted');
    ctx.sinkClosed(sink);
  };
  // `close` covers the client leaving and the end of the response; `error` a failed write
  // (a failed socket write destroys the socket, which closes the response too). `on`, not
  // `once`: `closed` may run twice, and `once` costs a bound wrapper per stream.
  res.on('close', closed);
  res.on('error', closed);
  connection.start(sink, outcome.prelude, outcome.replay).catch((error) => {
    ctx.reportError(error);
    connection.abort('aborted');
  });
}

/**
 * Node keeps a response's head for the response's whole life, as the string it built by
 * appending each header line: a tree of ~30 string pieces. For a stream that lives for hours
 * that is ~0.8 KB of heap per idle connection (bench S1, heap snapshot at 2 000 streams), so
 * it is replaced by an equal flat string. Node reads it back only to know the head was sent;
 * if a future Node stores it differently this does nothing.
 */
function flattenHead(res: ServerResponse): void {
  const holder = res as unknown as { _header?: unknown };
  const head = holder._header;
  if (typeof head === 'string') holder._header = Buffer.from(head, 'latin1').toString('latin1');
}

/**
 * A stream's `ServerResponse` as a `Sink`, through `res.write`: HTTP/1.0 (no chunked coding)
 * and HTTP/2. A class rather than an object of closures: its methods live once on the
 * prototype, not once per connection.
 */
class ResponseSink implements Sink {
  constructor(protected readonly res: ServerResponse) {}

  write(chunk: Uint8Array): boolean {
    const { res } = this;
    if (res.destroyed || res.writableEnded) return false;
    res.write(chunk);
    return true;
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
class SocketSink extends ResponseSink {
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

  private writeFramed(framed: Buffer): boolean {
    const { socket } = this;
    if (socket.destroyed || this.res.writableEnded) return false;
    socket.write(framed);
    return true;
  }

  override end(last: Uint8Array): void {
    // An empty chunk would read as the last one: send none rather than end the body twice.
    if (this.headersSent) this.finish(last.length > 0 ? chunkFrame(last) : null);
    else super.end(last);
  }

  override endShared(last: SharedBytes): void {
    if (this.headersSent) this.finish(framedOf(last));
    else super.end(last.plain);
  }

  /**
   * Sends the last bytes as a chunk of their own (a bye is framed once for every stream), then
   * lets `res` end the body, so the connection stays good for the client's next request.
   * Closing it instead would halve the cost of a bye (S5: `disconnect()` of 10 000 streams,
   * 560 → 290 ms) but a client that reuses the connection at once, as Node's agent does, would
   * meet a closed socket.
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
