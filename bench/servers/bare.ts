/**
 * The floor: node:http and a loop writing one pre-encoded Buffer to every response. No ids,
 * no resume; what any SSE server costs at the least. It sends the same heartbeat as Tandem
 * (a `tandem:ping` event every `heartbeatMs` to every stream) so S1 has a floor for
 * heartbeat CPU too. Its `/poll` answers `304` to any `If-None-Match` (and an empty list
 * otherwise) without looking at anything: S6's floor for what a poll request costs at all.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BenchPayload, type BenchServer, EVENT_TYPE, listenOptions, type ServerOptions } from './types';

export async function start(options: ServerOptions): Promise<BenchServer> {
  const subscribers = new Set<http.ServerResponse>();
  const heartbeat = setInterval(() => {
    const ping = Buffer.from(`event: tandem:ping\ndata: {"t":${Date.now()}}\n\n`);
    for (const res of subscribers) res.write(ping);
  }, options.heartbeatMs);
  const emptyPoll = JSON.stringify({ events: [], cursor: 'bare', resync: null });
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/live/poll')) {
      if (req.headers['if-none-match']) res.writeHead(304, { ETag: '"bare"' }).end();
      else res.writeHead(200, { 'Content-Type': 'application/json', ETag: '"bare"' }).end(emptyPoll);
      return;
    }
    if (!req.url?.startsWith('/stream')) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
    });
    res.write(':ok\n\n');
    subscribers.add(res);
    const drop = () => subscribers.delete(res);
    res.on('close', drop);
    res.on('error', drop);
  });
  // As Tandem's bench server: a poller every 10 s keeps its connection.
  server.keepAliveTimeout = 75_000;
  await new Promise<void>((resolve) => server.listen(listenOptions(), resolve));
  return {
    port: (server.address() as AddressInfo).port,
    publish(_channel: string, data: BenchPayload) {
      const frame = Buffer.from(`event: ${EVENT_TYPE}\ndata: ${JSON.stringify(data)}\n\n`);
      for (const res of subscribers) res.write(frame);
    },
    connections: () => subscribers.size,
    disconnectAll() {
      const n = subscribers.size;
      for (const res of subscribers) res.destroy();
      return n;
    },
    async close() {
      clearInterval(heartbeat);
      for (const res of subscribers) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
