import { createServer, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Hub } from '../../src/server';

export interface HubServer {
  /** `http://127.0.0.1:<port>`: append `/stream?channels=…`, `/poll?…`, `/metrics`. */
  url: string;
  hub: Hub;
  server: Server;
  /** Closes the hub (bye, drain), then the HTTP server, dropping idle keep-alive sockets. */
  close(): Promise<void>;
}

/**
 * Serves `hub.node` on 127.0.0.1 at a free port, for tests and benchmarks.
 * `serverOptions` go to `http.createServer` (e.g. `maxHeaderSize`).
 */
export async function startHubServer(hub: Hub, serverOptions: ServerOptions = {}): Promise<HubServer> {
  const server = createServer(serverOptions, hub.node);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}`,
    hub,
    server,
    close() {
      closing ??= (async () => {
        await hub.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
