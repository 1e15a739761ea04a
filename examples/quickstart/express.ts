import express from 'express';
import { createHub } from 'tandem/server';

type Events = { 'order:created': { id: string; total: number } };
const hub = createHub<Events>();

const app = express();
app.use('/api/live', hub.node); // GET /api/live/stream and /api/live/poll
app.post('/api/orders', express.json(), async (req, res) => {
  const event = await hub.publish('orders', 'order:created', req.body);
  res.status(201).json({ offset: event.offset });
});
const server = app.listen(Number(process.env.PORT ?? 3000));

// A deploy or Ctrl+C: stop listening, end every stream with a bye (clients reconnect to the
// next process), then drop what is left: idle connections, which may never send a request.
const shutdown = async () => {
  server.close();
  await hub.close();
  server.closeAllConnections();
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
