import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 that a test controls, standing between clients and a server to play
 * the network's failures: cut every connection (RST or FIN), stall them without a FIN (nothing
 * flows either way but both sockets stay open, as behind a dead NAT or a sleeping laptop), and
 * refuse new connections for a while.
 */
export interface FaultProxy {
  readonly port: number;
  /** `http://127.0.0.1:<port><path>`. */
  url(path?: string): string;
  /** Closes every current connection, by RST (default) or FIN. Returns how many. */
  cut(mode?: 'rst' | 'fin'): number;
  /**
   * Stops forwarding in both directions on every current connection, keeping the sockets open;
   * with `{ newConnections: true }` connections opened meanwhile stall too. Until `pass()`.
   */
  stall(options?: { newConnections?: boolean }): void;
  /** Resets new connections as soon as they arrive, for `ms` (or until `pass()`). */
  refuse(ms?: number): void;
  /** Back to normal: stalled connections flow again (or close, if an end was held back). */
  pass(): void;
  /** Sends new connections to another port from now on (a server restarted elsewhere). */
  retarget(port: number): void;
  /** Current connection pairs. */
  connectionCount(): number;
  /** When the proxy last forwarded a byte from the server to a client (ms, Date.now()). */
  readonly lastDownstreamByteAt: number;
  /** Counters for reports. */
  readonly stats: { accepted: number; refused: number; cut: number };
  /** When each accepted connection arrived (ms, Date.now()), in order; cleared by `resetLog()`. */
  readonly acceptedAt: number[];
  resetLog(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  stalled: boolean;
  /** A close or end that arrived while stalled, applied when the stall ends. */
  heldClose: boolean;
}

export async function startFaultProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let target = targetPort;
  let refusing = false;
  let refuseTimer: NodeJS.Timeout | null = null;
  let stallNew = false;
  let lastDownstreamByteAt = 0;
  const stats = { accepted: 0, refused: 0, cut: 0 };
  const acceptedAt: number[] = [];

  const destroyPair = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  };

  const forward = (pair: Pair, from: net.Socket, to: net.Socket, downstream: boolean) => {
    from.on('data', (chunk: Buffer) => {
      if (downstream) lastDownstreamByteAt = Date.now();
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!pair.stalled) from.resume();
        });
      }
    });
    from.on('end', () => {
      if (pair.stalled) pair.heldClose = true;
      else to.end();
    });
    from.on('close', () => {
      if (pair.stalled) pair.heldClose = true;
      else destroyPair(pair);
    });
    from.on('error', () => {});
  };

  const server = net.createServer((client) => {
    if (refusing) {
      stats.refused++;
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    stats.accepted++;
    if (acceptedAt.length < 100_000) acceptedAt.push(Date.now());
    client.setNoDelay(true);
    const upstream = net.connect({ port: target, host: targetHost });
    upstream.setNoDelay(true);
    const pair: Pair = { client, upstream, stalled: stallNew, heldClose: false };
    pairs.add(pair);
    forward(pair, client, upstream, false);
    forward(pair, upstream, client, true);
    if (pair.stalled) {
      client.pause();
      upstream.pause();
    }
  });
  server.on('error', () => {});

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  const unstall = (pair: Pair) => {
    pair.stalled = false;
    if (pair.heldClose) {
      destroyPair(pair);
      return;
    }
    pair.client.resume();
    pair.upstream.resume();
  };

  return {
    port,
    url: (path = '') => `http://127.0.0.1:${port}${path}`,
    cut(mode = 'rst') {
      const count = pairs.size;
      stats.cut += count;
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        if (mode === 'rst') {
          pair.client.resetAndDestroy();
          pair.upstream.resetAndDestroy();
        } else {
          pair.client.end();
          pair.upstream.end();
          setTimeout(() => destroyPair(pair), 1000).unref();
        }
      }
      return count;
    },
    stall(options = {}) {
      stallNew = options.newConnections ?? false;
      for (const pair of pairs) {
        pair.stalled = true;
        pair.client.pause();
        pair.upstream.pause();
      }
    },
    refuse(ms) {
      refusing = true;
      if (refuseTimer) clearTimeout(refuseTimer);
      refuseTimer = null;
      if (ms !== undefined) {
        refuseTimer = setTimeout(() => {
          refusing = false;
          refuseTimer = null;
        }, ms);
      }
    },
    pass() {
      refusing = false;
      stallNew = false;
      if (refuseTimer) clearTimeout(refuseTimer);
      refuseTimer = null;
      for (const pair of [...pairs]) if (pair.stalled) unstall(pair);
    },
    retarget(port) {
      target = port;
    },
    connectionCount: () => pairs.size,
    get lastDownstreamByteAt() {
      return lastDownstreamByteAt;
    },
    stats,
    acceptedAt,
    resetLog() {
      acceptedAt.length = 0;
    },
    async close() {
      if (refuseTimer) clearTimeout(refuseTimer);
      for (const pair of [...pairs]) destroyPair(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
