/**
 * Two Tandem hub processes on two ports sharing one Redis: publish on one, receive on the
 * other; stop one, and its clients resume on the other.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npm run start:cluster
 *
 * Each node serves `/api/live/stream`, `/api/live/poll`, `/api/live/metrics` and, for trying it
 * out, `POST /publish?channel=…&type=…` with a JSON body. Options: `PORTS=3001,3002`.
 * Run with `--node <port>` it is one of the two nodes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { redisBroker } from 'tandem/redis';
import { createHub } from 'tandem/server';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function runNode(port: number): Promise<void> {
  const broker = redisBroker({ url: redisUrl });
  await broker.ready();
  const hub = createHub({ broker });
  const live = hub.node();
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/publish')) return publish(req, res);
    live(req, res);
  });

  async function publish(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let body = '';
    for await (const chunk of req) body += chunk;
    try {
      const event = await hub.publish(
        url.searchParams.get('channel') ?? 'demo',
        url.searchParams.get('type') ?? 'message',
        body ? JSON.parse(body) : null,
      );
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(event));
    } catch (error) {
      const status = (error as { status?: number }).status ?? 400;
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: String(error) }));
    }
  }

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${port}`;
  console.log(`node ${process.pid} on ${base}`);
  console.log(`  stream:  curl -N '${base}/api/live/stream?channels=demo'`);
  console.log(`  publish: curl -X POST '${base}/publish?channel=demo&type=hello' -d '{"from":${port}}'`);

  const stop = async () => {
    await hub.close();
    server.close();
    await broker.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function runCluster(): void {
  const ports = (process.env.PORTS ?? '3001,3002').split(',').map(Number);
  console.log(`Tandem cluster on ${redisUrl}: ${ports.length} nodes`);
  const self = fileURLToPath(import.meta.url);
  const children: ChildProcess[] = ports.map((port) =>
    spawn(process.execPath, ['--import', 'tsx', self, '--node', String(port)], { stdio: 'inherit' }),
  );
  const stopAll = () => {
    for (const child of children) child.kill('SIGTERM');
  };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  for (const child of children) {
    child.once('exit', (code) => {
      if (code !== 0 && code !== null) console.error(`a node exited with ${code}`);
    });
  }
}

const nodeFlag = process.argv.indexOf('--node');
if (nodeFlag >= 0) await runNode(Number(process.argv[nodeFlag + 1]));
else runCluster();
