/**
 * The hub of scenario PUB, in a process of its own so that its CPU time is the hub's alone: the
 * runner drives `POST /publish` over HTTP, and asks this process to publish the same events in
 * process (`hub.publish`), phase by phase. Prints `{"port"}` once listening.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHub } from '../../packages/tandem/src/server';

export const KEY = 'bench-publish-key';

const hub = createHub({ publishEndpoint: { keys: [KEY] } });
const data = (i: number) => ({ id: i, name: 'order', total: 42.5, items: ['a', 'b', 'c'] });

/** `count` events published in process, `batch` at a time (one after the other, as the endpoint does). */
async function inProcess(count: number, batch: number): Promise<void> {
  for (let i = 0; i < count; i += batch) {
    for (let j = i; j < i + batch && j < count; j++) await hub.publish('bench', 'order:created', data(j));
  }
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/control/cpu') {
    const { user, system } = process.cpuUsage();
    res.end(JSON.stringify({ cpuUs: user + system }));
  } else if (url.pathname === '/control/in-process') {
    const count = Number(url.searchParams.get('count'));
    const batch = Number(url.searchParams.get('batch'));
    const before = process.cpuUsage();
    const started = performance.now();
    await inProcess(count, batch);
    const wallMs = performance.now() - started;
    const { user, system } = process.cpuUsage(before);
    res.end(JSON.stringify({ cpuUs: user + system, wallMs }));
  } else {
    hub.node(req, res);
  }
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
