/**
 * `hub.close()` as a process going away sees it: every stream ends with `bye` and its
 * connection closes, whatever still arrives is answered with `Connection: close`, long polls
 * end, and the HTTP server's own `close()` then completes without dropping anything by force.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLiveClient, type LiveClient } from '../../src/client';
import { createParser, type ParsedEvent } from '../../src/protocol';
import { createHub, type Hub } from '../../src/server';
import { fakeEnv } from '../helpers/fake-env';

interface Served {
  url: string;
  server: http.Server;
  /** Resolves when `server.close()` completes: its last connection ended. */
  closed: Promise<void>;
  /** Requests the server received, hub or not. */
  requests: () => number;
}

const servers: http.Server[] = [];
const agents: http.Agent[] = [];
const clients: LiveClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  for (const agent of agents.splice(0)) agent.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** Serves `hub.node` (or `hub.fetch` through Hono's Node server) on a loopback port. */
async function serve(hub: Hub, via: 'node' | 'hono'): Promise<Served> {
  let app: http.RequestListener = hub.node;
  if (via === 'hono') {
    const hono = new Hono();
    hono.get('/live/*', (c) => hub.fetch(c.req.raw));
    app = getRequestListener(hono.fetch);
  }
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    app(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closedResolve!: () => void;
  const closed = new Promise<void>((resolve) => {
    closedResolve = resolve;
  });
  server.once('close', () => closedResolve());
  return {
    url: `http://127.0.0.1:${port}${via === 'hono' ? '/live' : ''}`,
    server,
    closed,
    requests: () => requests,
  };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  events: ParsedEvent[];
  body: string;
  /** The connection it came on was open before (keep-alive). */
  reused: boolean;
  /** Resolves when the response is complete. */
  done: Promise<void>;
  /** Resolves when its connection closes. */
  socketClosed: Promise<void>;
}

/** GET through a keep-alive agent of one connection, reading the body as it comes. */
function get(url: string, agent: http.Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      const events: ParsedEvent[] = [];
      const parser = createParser({ onEvent: (event) => events.push(event) });
      const socket = req.socket!;
      const answer: Answer = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        body: '',
        reused: req.reusedSocket,
        done: new Promise((done) => res.once('end', done)),
        socketClosed: socket.destroyed
          ? Promise.resolve()
          : new Promise((closed) => socket.once('close', closed)),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        answer.body += chunk;
        parser.feed(chunk);
      });
      resolve(answer);
    });
    req.once('error', reject);
  });
}

function keepAliveAgent(): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  return agent;
}

describe.each(['node', 'hono'] as const)('hub.close() served by %s', (via) => {
  it('ends every stream with bye `shutdown` and closes its connection', async () => {
    const hub = createHub();
    const { url } = await serve(hub, via);
    const agent = keepAliveAgent();
    const stream = await get(`${url}/stream?channels=a`, agent);
    await vi.waitFor(() => expect(stream.events.map((e) => e.type)).toContain('tandem:hello'));

    await hub.close();
    await stream.done;
    const bye = stream.events.at(-1)!;
    expect(bye.type).toBe('tandem:bye');
    expect(JSON.parse(bye.data)).toMatchObject({ reason: 'shutdown' });
    if (via === 'node') {
      // hub.node closes the connection itself, right after the bye.
      await stream.socketClosed;
    } else {
      // Through a Fetch runtime the connection outlives the response; the next request on it
      // is answered with `Connection: close` and closes it.
      const next = await get(`${url}/stream?channels=a`, agent);
      expect(next.reused).toBe(true);
      expect(next.status).toBe(503);
      expect(next.headers.connection).toBe('close');
      await next.socketClosed;
    }
  });

  it('answers a request on a kept-alive connection with 503 and Connection: close, and the connection closes', async () => {
    const hub = createHub();
    const { url } = await serve(hub, via);
    const agent = keepAliveAgent();
    const first = await get(`${url}/poll?channels=a`, agent);
    await first.done;
    expect(first.status).toBe(200);
    expect(first.headers.connection).toBe('keep-alive');

    await hub.close();
    const refused = await get(`${url}/poll?channels=a`, agent);
    await refused.done;
    expect(refused.reused).toBe(true);
    expect(refused.status).toBe(503);
    expect(refused.headers.connection).toBe('close');
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'shutting_down' } });
    await refused.socketClosed;
  });

  it('answers a waiting long poll at once, with Connection: close', async () => {
    // The hub's timers are a fake clock's that the test never moves: the poll's 20 s deadline
    // cannot answer it, so an answer can only come from close().
    const hub = createHub({ timers: fakeEnv().timers });
    const { url } = await serve(hub, via);
    const agent = keepAliveAgent();
    const cursor = await hub.cursor(['a']);
    // Its answer (and so its headers) comes only when the poll ends.
    const answer = get(`${url}/poll?channels=a&wait=20&cursor=${encodeURIComponent(cursor)}`, agent);
    await vi.waitFor(() => expect(hub.stats().waiters).toBe(1));

    await hub.close();
    const waiting = await answer;
    await waiting.done;
    expect(waiting.status).toBe(200);
    expect(waiting.headers.connection).toBe('close');
    await waiting.socketClosed;
  });

  it("lets the server's own close() complete while a Tandem client keeps trying to reconnect", async () => {
    const hub = createHub({ retryMs: 200 });
    const served = await serve(hub, via);
    const client = createLiveClient({ url: served.url, channels: ['a'], storage: null });
    clients.push(client);
    client.start();
    await vi.waitFor(() => expect(client.getState().status).toBe('open'), { timeout: 10_000 });
    const before = served.requests();

    // What a SIGTERM handler does: stop listening, then close the hub. Nothing is destroyed by force.
    served.server.close();
    await hub.close();
    await served.closed;
    // The client's retries could not pin the process: each was answered with `Connection: close`
    // (or found the port closed), so the last connection ended.
    expect(served.requests() - before).toBeLessThan(10);
    expect(client.getState().status).not.toBe('open');
  });
});

describe('hub.node', () => {
  it('names the mistake when called as the factory it once was', () => {
    const hub = createHub();
    const call = hub.node as unknown as () => unknown;
    expect(() => call()).toThrow(TypeError);
    expect(() => call()).toThrow('hub.node is the request handler itself: pass `hub.node`');
    return hub.close();
  });
});
