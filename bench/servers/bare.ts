/**
 * The floor: node:http and a loop writing one pre-encoded frame to every stream, through the
 * write path Tandem's node adapter takes, so that the floor is what any SSE server on Node could
 * cost at the least rather than a handicapped one: on HTTP/1.1 the head is sent by `res` (then
 * flattened) and every frame is one HTTP/1.1 chunk, framed once per event and shared, written
 * straight to each socket. No ids, no resume, no bye. It sends the same heartbeat as Tandem (a
 * `tandem:ping` event every `heartbeatMs` to every stream) so S1 has a floor for heartbeat CPU
 * too. Its `/poll` answers `304` to any `If-None-Match` (and an empty list otherwise) without
 * looking at anything: S6's floor for what a poll request costs at all.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type BenchPayload, type BenchServer, EVENT_TYPE, listenOptions, type ServerOptions } from './types';

/** One HTTP/1.1 chunk around a frame: size in hex, CRLF, the frame, CRLF. */
function chunk(frame: string): Buffer {
  const body = Buffer.from(frame);
  return Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`, 'latin1'), body, Buffer.from('\r\n')]);
}

export async function start(options: ServerOptions): Promise<BenchServer> {
  // Each stream's socket once its head is out (HTTP/1.1), or its response (HTTP/1.0).
  const sockets = new Set<Socket>();
  const responses = new Set<http.ServerResponse>();
  const send = (frame: string) => {
    if (sockets.size > 0) {
      const framed = chunk(frame);
      for (const socket of sockets) socket.write(framed);
    }
    if (responses.size > 0) {
      const plain = Buffer.from(frame);
      for (const res of responses) res.write(plain);
    }
  };
  const heartbeat = setInterval(
    () => send(`event: tandem:ping\ndata: {"t":${Date.now()}}\n\n`),
    options.heartbeatMs,
  );
  const emptyPoll = JSON.stringify({ events: [], cursor: 'bare', resync: null });
  // The same node:http settings as Tandem's bench server (docs/server.md): in scenario H's slow
  // headers this is the floor, Node's own work of timing out 2 000 sockets.
  const timeouts = { headersTimeout: 10_000, requestTimeout: 10_000, connectionsCheckingInterval: 2_000 };
  const server = http.createServer(timeouts, (req, res) => {
    if (req.url?.startsWith('/live/poll')) {
      if (req.headers['if-none-match']) res.writeHead(304, { ETag: '"bare"' }).end();
      else
        res
          .writeHead(200, {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(emptyPoll),
            ETag: '"bare"',
          })
          .end(emptyPoll);
      return;
    }
    if (!req.url?.startsWith('/stream')) {
      res.writeHead(404).end();
      return;
    }
    const http11 = req.httpVersionMajor === 1 && req.httpVersionMinor >= 1;
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
    };
    if (http11) headers['Transfer-Encoding'] = 'chunked';
    res.writeHead(200, headers);
    // As Tandem's adapter: a flat copy of the head Node keeps for the response's life.
    const holder = res as unknown as { _header?: unknown };
    if (typeof holder._header === 'string')
      holder._header = Buffer.from(holder._header, 'latin1').toString('latin1');
    req.socket.setNoDelay(true);
    // The first write sends the head; later ones go to the socket.
    res.write(':ok\n\n');
    const socket = http11 ? res.socket : null;
    if (socket) sockets.add(socket);
    else responses.add(res);
    const drop = () => {
      if (socket) sockets.delete(socket);
      else responses.delete(res);
    };
    res.on('close', drop);
    res.on('error', drop);
  });
  // As Tandem's bench server: a poller every 10 s keeps its connection.
  server.keepAliveTimeout = 75_000;
  await new Promise<void>((resolve) => server.listen(listenOptions(), resolve));
  return {
    port: (server.address() as AddressInfo).port,
    publish(_channel: string, data: BenchPayload) {
      send(`event: ${EVENT_TYPE}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    connections: () => sockets.size + responses.size,
    disconnectAll() {
      const n = sockets.size + responses.size;
      for (const socket of sockets) socket.destroy();
      for (const res of responses) res.destroy();
      return n;
    },
    async close() {
      clearInterval(heartbeat);
      for (const socket of sockets) socket.destroy();
      for (const res of responses) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
