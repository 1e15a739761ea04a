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

process.on('SIGTERM', async () => {
  server.close(); // no new connections
  await hub.close(); // bye to every stream; they drain
  server.closeAllConnections(); // what is left is idle (a connection may never send a request)
});
