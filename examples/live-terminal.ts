/**
 * A small live example in one terminal: a hub on the in-memory broker publishing a few events
 * a second, and a LiveClient printing them as they arrive. Every few seconds the server drops
 * the stream, and the client resumes from its cursor without losing an event.
 *
 *   npm run example   (tsx with the `tandem-source` condition: Tandem from its sources)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLiveClient } from 'tandem/client';
import { createHub, memoryBroker } from 'tandem/server';

interface Order {
  id: number;
  item: string;
  qty: number;
}

const hub = createHub({ broker: memoryBroker() });
const server = createServer(
  {
    // A request's headers, and the whole request, within 10 s (checked every 2 s): a client that
    // never finishes its headers does not hold a socket for Node's default minute.
    headersTimeout: 10_000,
    requestTimeout: 10_000,
    connectionsCheckingInterval: 2_000,
  },
  hub.node,
);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
const url = `http://127.0.0.1:${port}/live`;
console.log(`Tandem hub listening on ${url}/stream`);

const live = createLiveClient<{ 'order:created': Order }>({ url, channels: ['tenant:acme/orders'] });
live.start();
let received = 0;
live.on('order:created', (order, meta) => {
  received++;
  const lag = Date.now() - meta.ts;
  console.log(
    `#${String(meta.offset).padStart(3)}  ${order.item.padEnd(8)} x${order.qty}  via ${meta.source.padEnd(6)} ${lag} ms`,
  );
});
let shown = '';
live.subscribeState((state) => {
  const label = `${state.status}${state.polling ? ', polling' : ''}`;
  if (label !== shown) console.log(`  [${label}]`);
  shown = label;
});

const items = ['apples', 'pears', 'coffee', 'tea', 'bread'];
let published = 0;
const publisher = setInterval(() => {
  published++;
  void hub.publish('tenant:acme/orders', 'order:created', {
    id: published,
    item: items[published % items.length]!,
    qty: 1 + (published % 4),
  });
}, 400);
const cutter = setInterval(() => {
  console.log(`  -- server drops the stream (published ${published}, received ${received}) --`);
  hub.disconnect({});
}, 5000);

async function stop(): Promise<void> {
  clearInterval(publisher);
  clearInterval(cutter);
  live.close();
  await hub.close();
  server.close();
  console.log(`published ${published}, received ${received}`);
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
