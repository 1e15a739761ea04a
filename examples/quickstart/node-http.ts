import http from 'node:http';
import { json } from 'node:stream/consumers';
import { createHub } from 'tandem/server';

type Events = { 'order:created': { id: string; total: number } };
const hub = createHub<Events>();

const server = http.createServer(async (req, res) => {
  if (req.method === 'POST' && req.url === '/api/orders') {
    const order = (await json(req)) as Events['order:created'];
    const event = await hub.publish('orders', 'order:created', order);
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ offset: event.offset }));
    return;
  }
  hub.node(req, res); // GET /api/live/stream and /api/live/poll; 404 for anything else
});
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
