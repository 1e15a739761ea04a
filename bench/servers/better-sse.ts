/** better-sse: one session per request, registered on one channel, `channel.broadcast`. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createChannel, createSession, type Session } from 'better-sse';
import { type BenchPayload, type BenchServer, EVENT_TYPE, listenOptions } from './types';

export async function start(): Promise<BenchServer> {
  const channel = createChannel();
  const open = new Set<http.ServerResponse>();
  const server = http.createServer(async (req, res) => {
    if (!req.url?.startsWith('/stream')) {
      res.writeHead(404).end();
      return;
    }
    open.add(res);
    res.on('close', () => open.delete(res));
    let session: Session;
    try {
      session = await createSession(req, res);
    } catch {
      res.destroy();
      return;
    }
    channel.register(session);
  });
  await new Promise<void>((resolve) => server.listen(listenOptions(), resolve));
  return {
    port: (server.address() as AddressInfo).port,
    publish(_channel: string, data: BenchPayload) {
      channel.broadcast(data, EVENT_TYPE);
    },
    connections: () => channel.sessionCount,
    disconnectAll() {
      const n = open.size;
      for (const res of open) res.destroy();
      return n;
    },
    async close() {
      for (const res of open) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
