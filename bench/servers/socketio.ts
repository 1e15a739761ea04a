/** socket.io: WebSocket transport only, every client in one room, `io.to(room).emit`. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { type BenchPayload, type BenchServer, EVENT_TYPE, listenOptions } from './types';

export async function start(): Promise<BenchServer> {
  const server = http.createServer();
  const io = new Server(server, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });
  io.on('connection', (socket) => {
    socket.join('bench');
  });
  await new Promise<void>((resolve) => server.listen(listenOptions(), resolve));
  return {
    port: (server.address() as AddressInfo).port,
    publish(channel: string, data: BenchPayload) {
      io.to(channel).emit(EVENT_TYPE, data);
    },
    connections: () => io.engine.clientsCount,
    disconnectAll() {
      const n = io.engine.clientsCount;
      io.disconnectSockets(true);
      return n;
    },
    async close() {
      io.disconnectSockets(true);
      await io.close();
    },
  };
}
