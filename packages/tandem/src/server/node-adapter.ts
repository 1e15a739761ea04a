import type { Buffer } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TandemError } from '../protocol';
import { extractToken, type HeaderReader, type HubRequest } from './auth';
import type { HubContext } from './context';
import { handle, route, type StreamOutcome } from './handler';
import type { NodeHandler } from './node-handler';
import { NodeBuffer, ResponseSink, SocketSink } from './node-sinks';
import { bodyTooLarge, declaredTooLarge } from './request-body';

/** Why a request's signal aborts: its response closed (client gone, or the response ended). */
const RESPONSE_CLOSED = new Error('the response closed');

/**
 * The node:http adapter: the fast path. Stream bytes go straight to `res.write`, backpressure is
 * read from `res.writableLength`, and the connection ends on `close` or `error` of the response.
 */
export function createNodeHandler(ctx: HubContext): NodeHandler {
  if (!NodeBuffer)
    throw new TypeError(
      "hub.node needs a runtime with Node's http module (Node, Bun, Deno): serve hub.fetch here",
    );
  // The public type describes only what the handler needs of Node's objects (no @types/node for
  // users); node:http hands it its own, which the adapter uses in full.
  return ((req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => {
    // `hub.node` used to be a factory: name the mistake instead of failing inside the adapter.
    if (req === undefined || res === undefined) {
      throw new TypeError(
        'hub.node is the request handler itself: pass `hub.node` (http.createServer(hub.node), app.use(hub.node)), not `hub.node()`',
      );
    }
    const request = new NodeRequest(req);
    const { settings } = ctx;
    const publish = settings.publishEndpoint !== undefined;
    if (
      next &&
      !route(request.pathname, settings.basePath, settings.metricsEndpoint !== undefined, publish)
    ) {
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
          if (body !== null) headers['Content-Length'] = String(NodeBuffer.byteLength(body));
          // While the hub closes, the connection closes after this answer: a client retrying on
          // it would reach this process again, and be kept from the one replacing it.
          if (ctx.closing && req.httpVersionMajor === 1) headers.Connection = 'close';
          // A large body left unread (refused as too large, or before it was read) would be
          // read to its end by Node to keep the connection: close it instead.
          if (request.closeUnread()) headers.Connection = 'close';
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
  }) as NodeHandler;
}

/** Most bytes of a refused body read and dropped to keep the connection (see `closeUnread`). */
const DRAIN_BYTES = 2 * 1024 * 1024;

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
  private bodyRead: 'no' | 'reading' | 'done' = 'no';

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

  body(maxBytes: number): Promise<Uint8Array> {
    const req = this.raw;
    if (this.bodyRead !== 'no') return Promise.reject(new Error('the request body was already read'));
    if (declaredTooLarge(req.headers['content-length'], maxBytes))
      return Promise.reject(bodyTooLarge(maxBytes));
    this.bodyRead = 'reading';
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let length = 0;
      const done = (error: Error | null) => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('close', onClose);
        if (error) {
          // The rest is dropped as it comes: a small remainder is read to its end so that the
          // client, still sending, sees the answer; a large one ends with the connection.
          req.resume();
          reject(error);
        } else {
          this.bodyRead = 'done';
          resolve(NodeBuffer.concat(chunks, length));
        }
      };
      const onData = (chunk: Buffer) => {
        length += chunk.byteLength;
        if (length > maxBytes) done(bodyTooLarge(maxBytes));
        else chunks.push(chunk);
      };
      const onEnd = () => done(null);
      const onError = (error: Error) =>
        done(new TandemError('bad_request', 'the request body was cut off', { cause: error }));
      const onClose = () => done(new TandemError('bad_request', 'the request body was cut off'));
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('close', onClose);
    });
  }

  /**
   * Whether the answer must close the connection: the body was not read to its end and what is
   * left is unknown (chunked) or over `DRAIN_BYTES`. A smaller remainder is read and dropped
   * (closing with unread bytes would reset the connection before the client reads the answer).
   */
  closeUnread(): boolean {
    if (this.bodyRead === 'done' || this.raw.complete) return false;
    const { headers } = this.raw;
    const length = headers['content-length'];
    if (length === undefined) return headers['transfer-encoding'] !== undefined;
    return Number(length) > DRAIN_BYTES;
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
  if (typeof head === 'string') holder._header = NodeBuffer.from(head, 'latin1').toString('latin1');
}
