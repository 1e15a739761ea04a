/**
 * Z through nginx: a hub behind nginx as docs/deploy.md configures it (HTTP/1.1 upstream,
 * `proxy_buffering off`), once without and once with nginx's own `gzip on; gzip_types
 * text/event-stream;`, and the hub alone. One client asking for `Accept-Encoding: gzip` reads the
 * compact wire; events of about 1 KB are published one every `gapMs`. Figures: bytes the client's
 * socket read per event (headers, chunked framing and heartbeats included) and the time from
 * publish to the event decoded, which shows whether nginx's gzip flushes each event or holds it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { createParser } from '../../packages/tandem/src/protocol';
import { createHub, memoryBroker } from '../../packages/tandem/src/server';
import { freePort } from '../../packages/tandem/test/helpers/free-port';
import { NGINX_BIN } from '../../packages/tandem/test/helpers/nginx';
import { sleep } from '../lib/harness';
import { orderPayload } from './z-payloads';

export interface ProxyFigures {
  bytesPerEvent: number;
  contentEncoding: string;
  p50Ms: number;
  maxMs: number;
  /** Events decoded before the stream ended (all of them unless something held them back). */
  received: number;
  published: number;
}

/** nginx on a free loopback port in front of `upstreamPort`, with `extra` in its server block. */
async function startNginx(
  upstreamPort: number,
  extra: string,
): Promise<{ url: string; close(): Promise<void> }> {
  if (!NGINX_BIN) throw new Error('nginx is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-nginx-'));
  for (const sub of ['client', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `${kind}_temp_path ${dir}/${kind === 'client_body' ? 'client' : kind};`)
    .join('\n  ');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
${process.getuid?.() === 0 ? 'user root;' : ''}
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  ${temp}
  upstream hub { server 127.0.0.1:${upstreamPort}; keepalive 8; }
  server {
    listen 127.0.0.1:${port};
    ${extra}
    location / {
      proxy_pass http://hub;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 1h;
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(
    NGINX_BIN,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exited, sleep(5_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200 && child.exitCode === null; i++) {
    try {
      await (await fetch(`${url}/ready`)).body?.cancel();
      return { url, close };
    } catch {
      await sleep(50);
    }
  }
  await close();
  throw new Error('nginx did not start');
}

async function measureStream(
  url: string,
  publish: (i: number) => Promise<void>,
  events: number,
  gapMs: number,
): Promise<ProxyFigures> {
  const sentAt: number[] = [];
  const latencies: number[] = [];
  const request = http.get(`${url}/stream?channels=shop:orders&wire=compact`, {
    headers: { 'accept-encoding': 'gzip' },
    agent: false,
  });
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
  });
  const encoding = response.headers['content-encoding'] ?? 'identity';
  const parser = createParser({
    onEvent: (event) => {
      if (event.type !== 'order:updated') return;
      latencies.push(performance.now() - sentAt[latencies.length]!);
    },
  });
  const body = encoding === 'gzip' ? response.pipe(zlib.createGunzip()) : response;
  body.setEncoding('utf8');
  body.on('data', (text: string) => parser.feed(text));
  body.on('error', () => {});
  // The hello arrives first (also through a gzip that flushes); bytes count from here.
  await sleep(300);
  const start = request.socket!.bytesRead;
  for (let i = 0; i < events; i++) {
    sentAt.push(performance.now());
    await publish(i);
    await sleep(gapMs);
  }
  const deadline = performance.now() + 3_000;
  while (latencies.length < events && performance.now() < deadline) await sleep(20);
  const bytes = request.socket!.bytesRead - start;
  const received = latencies.length;
  request.destroy();
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    bytesPerEvent: bytes / events,
    contentEncoding: encoding,
    p50Ms: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
    maxMs: sorted.at(-1) ?? Number.NaN,
    received,
    published: events,
  };
}

export const PROXY_SETUPS = [
  { name: 'hub alone', extra: null },
  { name: 'nginx, no gzip', extra: '' },
  { name: 'nginx, gzip on (level 1, its default)', extra: 'gzip on; gzip_types text/event-stream;' },
  {
    name: 'nginx, gzip on, level 6',
    extra: 'gzip on; gzip_types text/event-stream; gzip_comp_level 6;',
  },
] as const;

export async function measureProxy(
  setup: (typeof PROXY_SETUPS)[number],
  size: number,
  events: number,
  gapMs: number,
): Promise<ProxyFigures> {
  const hub = createHub({ broker: memoryBroker(), heartbeatMs: 30_000 });
  const server = http.createServer(hub.node);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const nginx = setup.extra === null ? null : await startNginx(port, setup.extra);
  try {
    const publish = async (i: number) => {
      await hub.publish('shop:orders', 'order:updated', orderPayload(i, size));
    };
    return await measureStream(nginx?.url ?? `http://127.0.0.1:${port}`, publish, events, gapMs);
  } finally {
    await nginx?.close();
    await hub.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
