import http from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { createHub } from 'tandem/server';

type Events = { 'order:created': { id: string; total: number } };
const hub = createHub<Events>();

const app = new Hono();
app.get('/api/live/*', (c) => hub.fetch(c.req.raw)); // /api/live/stream and /api/live/poll
app.post('/api/orders', async (c) => {
  const event = await hub.publish('orders', 'order:created', await c.req.json());
  return c.json({ offset: event.offset }, 201);
});
const server = http.createServer(getRequestListener(app.fetch));
server.listen(Number(process.env.PORT ?? 3000));

// A deploy or Ctrl+C: stop listening, end every stream with a bye (clients reconnect to the
// next process), then drop what is left: idle connections, which may never send a request.
const shutdown = async () => {
  server.close();
  await hub.close();
  server.closeAllConnections();
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
