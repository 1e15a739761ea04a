import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLiveClient, type LiveClient } from '../../src/client';
import { createHub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { runNginx } from '../helpers/nginx';
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
  const nginx = await runNginx((port) => configure(docBlock(), upstreamPort, port));
  cleanups.push(nginx.close);
  return nginx.url;
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
