import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLiveClient, type LiveClient } from '../../src/client';
import { createHub } from '../../src/server';
import { freePort } from '../helpers/free-port';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { NGINX_BIN } from '../helpers/nginx';
import { ROOT } from './packed';

/**
 * docs/deploy.md's nginx block, as written, in front of a hub: only the upstream's address and
 * the listening port are changed, and the block is placed in an `http {}` of its own.
 */

const DOC = 'docs/deploy.md';

function docBlock(): string {
  const block = /^```nginx\n([\s\S]*?)^```/m.exec(readFileSync(join(ROOT, DOC), 'utf8'));
  if (!block?.[1]) throw new Error(`${DOC} has no \`\`\`nginx block`);
  return block[1];
}

/** The block with its upstream and port replaced; throws when the block no longer has them. */
function configure(block: string, upstreamPort: number, port: number): string {
  const upstream = /server 127\.0\.0\.1:3000;/;
  const listen = /listen 80;/;
  if (!upstream.test(block) || !listen.test(block))
    throw new Error(`${DOC}'s nginx block must keep "server 127.0.0.1:3000;" and "listen 80;" for this test`);
  return block
    .replace(upstream, `server 127.0.0.1:${upstreamPort};`)
    .replace(listen, `listen 127.0.0.1:${port};`);
}

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function startDocNginx(upstreamPort: number): Promise<string> {
  if (!NGINX_BIN) throw new Error('nginx is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'tandem-docs-nginx-'));
  for (const sub of ['client', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  const port = await freePort();
  const config = `
worker_processes 1;
${process.getuid?.() === 0 ? 'user root;' : ''}
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${configure(docBlock(), upstreamPort, port)}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), config);
  const child: ChildProcess = spawn(
    NGINX_BIN,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  await vi.waitFor(
    async () => {
      expect(child.exitCode, stderr).toBeNull();
      const response = await fetch(`${url}/api/live/poll?channels=ready`);
      await response.body?.cancel();
    },
    { timeout: 10_000, interval: 50 },
  );
  return url;
}

describe(`${DOC}'s nginx configuration`, () => {
  it('passes a stream through as it is written, and reuses its connections to the app', async () => {
    const hub = createHub<{ 'order:created': { id: string } }>();
    const server: HubServer = await startHubServer(hub);
    cleanups.push(() => server.close());
    const upstream: string[] = [];
    server.server.on('connection', (socket) => upstream.push(`${socket.remotePort}`));
    const url = await startDocNginx(Number(new URL(server.url).port));

    const client: LiveClient<{ 'order:created': { id: string } }> = createLiveClient({
      url: `${url}/api/live`,
      channels: ['orders'],
      storage: null,
      poll: { enabled: false },
    });
    cleanups.push(() => client.close());
    const received: string[] = [];
    client.on('order:created', (order) => received.push(order.id));
    client.start();
    await vi.waitFor(() => expect(client.getState().status).toBe('open'), { timeout: 10_000 });
    await hub.publish('orders', 'order:created', { id: 'o-1' });
    await vi.waitFor(() => expect(received).toEqual(['o-1']), { timeout: 5_000 });

    // Polls one after another through nginx: HTTP/1.1 keep-alive to the app, one connection.
    const before = upstream.length;
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${url}/api/live/poll?channels=orders`);
      expect(response.status).toBe(200);
      await response.json();
    }
    expect(upstream.length - before).toBeLessThanOrEqual(1);
  });
});
