/**
 * Several Tandem server processes on several ports sharing one Redis: publish on one, receive
 * on the other; stop one, and its clients resume on the other.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npm run start:cluster           # the demo, twice
 *   REDIS_URL=redis://127.0.0.1:6379 npm run start:cluster -- --hubs # two bare hubs
 *
 * By default it builds the demo once and starts it on each port (`PORTS=3001,3002`), with one
 * token secret for all of them, so a client can move between ports (`--no-build` reuses the last
 * build). With `--hubs` each node is
 * a bare hub serving `/api/live/stream`, `/api/live/poll`, `/api/live/metrics` (Prometheus, to
 * `Authorization: Bearer $METRICS_TOKEN` only) and, for trying it out,
 * `POST /publish?channel=…&type=…` with a JSON body. `--node <port>` runs one bare hub.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { prometheusMetrics } from 'tandem/prometheus';
import { redisBroker } from 'tandem/redis';
import { createHub, HUB_DEFAULTS } from 'tandem/server';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function runNode(port: number): Promise<void> {
  const broker = redisBroker({ url: redisUrl });
  await broker.ready();
  const metricsToken = process.env.METRICS_TOKEN;
  const hub = createHub({
    broker,
    metrics: prometheusMetrics(),
    // Without METRICS_TOKEN nobody may read the metrics (403).
    metricsEndpoint: {
      authorize: (request) =>
        metricsToken !== undefined && request.headers.get('authorization') === `Bearer ${metricsToken}`,
    },
  });
  const live = hub.node;
  const server = createServer(
    {
      // A request's headers, and the whole request, within 10 s (checked every 2 s): a client that
      // never finishes its headers does not hold a socket for Node's default minute.
      headersTimeout: 10_000,
      requestTimeout: 10_000,
      connectionsCheckingInterval: 2_000,
    },
    (req, res) => {
      if (req.method === 'POST' && req.url?.startsWith('/publish')) return publish(req, res);
      live(req, res);
    },
  );

  async function publish(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let body = '';
    for await (const chunk of req) {
      body += chunk;
      // The hub refuses events over maxEventBytes (413) anyway; do not read an endless body.
      if (body.length > 2 * HUB_DEFAULTS.maxEventBytes) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
    }
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

function spawnAll(ports: number[], command: (port: number) => [string, string[]], env: NodeJS.ProcessEnv) {
  const children: ChildProcess[] = ports.map((port) => {
    const [file, args] = command(port);
    return spawn(file, args, { stdio: 'inherit', env: { ...env, PORT: String(port) } });
  });
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

function runHubs(ports: number[]): void {
  const self = fileURLToPath(import.meta.url);
  spawnAll(
    ports,
    (port) => [
      process.execPath,
      ['--conditions=tandem-source', '--import', 'tsx', self, '--node', String(port)],
    ],
    process.env,
  );
}

function runDemos(ports: number[]): void {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  if (!process.argv.includes('--no-build')) {
    const build = spawnSync(npm, ['run', 'build', '-w', 'tandem-demo'], { stdio: 'inherit' });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }
  // Tokens minted by one node must be accepted by the others.
  const secret = process.env.TANDEM_DEMO_SECRET ?? randomBytes(32).toString('base64url');
  spawnAll(ports, (port) => [npm, ['run', 'start', '-w', 'tandem-demo', '--', '-p', String(port)]], {
    ...process.env,
    REDIS_URL: redisUrl,
    TANDEM_DEMO_SECRET: secret,
  });
  for (const port of ports) console.log(`demo node on http://localhost:${port}`);
}

const ports = (process.env.PORTS ?? '3001,3002').split(',').map(Number);
const nodeFlag = process.argv.indexOf('--node');
if (nodeFlag >= 0) {
  await runNode(Number(process.argv[nodeFlag + 1]));
} else {
  console.log(`Tandem cluster on ${redisUrl}: ${ports.length} nodes`);
  if (process.argv.includes('--hubs')) runHubs(ports);
  else runDemos(ports);
}
