import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Broker, createHub, type Hub, type HubOptions, memoryBroker } from '../server';
import { jsonLog, type Log, redactUrl } from './log';
import { ConfigError, readConfig, type ServeConfig } from './settings';

/** A running `tandem serve`. */
export interface Serving {
  url: string;
  hub: Hub;
  server: Server;
  /** Drains (streams get `bye`), closes the server and the broker; resolves when done. */
  stop(reason: string): Promise<void>;
}

/** How long `/readyz` waits for the broker, and how often its state is logged when it changes. */
const READY_TIMEOUT_MS = 1000;
const BROKER_CHECK_MS = 5000;
const MIN_SECRET_LENGTH = 32;

/** Resolves subscriber and publisher auth; refuses to start open unless asked to. */
async function auth(
  config: ServeConfig,
  log: Log,
): Promise<Pick<HubOptions, 'authorize' | 'publishEndpoint'>> {
  if (config.secret !== undefined && config.jwksUrl !== undefined) {
    throw new ConfigError('set TANDEM_SECRET or TANDEM_JWKS_URL, not both');
  }
  if (config.secret !== undefined && config.secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(
      `TANDEM_SECRET must have at least ${MIN_SECRET_LENGTH} characters (HS256 wants 256 bits)`,
    );
  }
  const keys = config.publishKeys ?? [];
  if (config.secret === undefined && config.jwksUrl === undefined) {
    if (!config.allowAnonymous) {
      throw new ConfigError(
        'no subscriber auth: set TANDEM_SECRET (HS256 tokens with a channels claim) or TANDEM_JWKS_URL; TANDEM_ALLOW_ANONYMOUS=1 serves every channel to anyone',
      );
    }
    log('warn', 'anonymous', { detail: 'TANDEM_ALLOW_ANONYMOUS: every channel is readable by anyone' });
    return { publishEndpoint: keys.length > 0 ? { keys, maxBodyBytes: config.maxBodyBytes } : undefined };
  }
  const { jwtAuthorizer, jwtPublishAuthorizer } = await import('../jwt');
  const jwt = {
    ...(config.secret !== undefined ? { secret: config.secret } : { jwks: config.jwksUrl }),
    issuer: config.issuer,
    audience: config.audience,
  };
  return {
    authorize: jwtAuthorizer(jwt),
    publishEndpoint: { keys, authorize: jwtPublishAuthorizer(jwt), maxBodyBytes: config.maxBodyBytes },
  };
}

async function brokerOf(config: ServeConfig): Promise<Broker> {
  const retention = {
    retentionMs: config.retentionMs,
    maxEventsPerChannel: config.maxEventsPerChannel,
  };
  if (config.redisUrl === undefined) return memoryBroker(retention);
  const { redisBroker } = await import('../redis');
  return redisBroker({ url: config.redisUrl, prefix: config.redisPrefix, ...retention });
}

/** Whether the broker answers within a second. */
async function brokerAnswers(broker: Broker): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      broker.info('tandem-readyz').then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function bearerMatches(request: { headers: { get(name: string): string | null } }, token: string): boolean {
  const given = Buffer.from(
    /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1] ?? '',
  );
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

function plain(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** Starts the hub as configured by `env` and `args`; rejects with a ConfigError for bad settings. */
export async function serve(
  env: NodeJS.ProcessEnv,
  args: readonly string[],
  log: Log = jsonLog(),
): Promise<Serving> {
  const config = readConfig(env, args);
  if (config.port !== undefined && config.port > 65_535) throw new ConfigError('PORT must be 0 to 65535');
  const access = await auth(config, log);
  let metrics: Pick<HubOptions, 'metrics' | 'metricsEndpoint'> = {};
  if (config.metricsToken !== undefined) {
    const token = config.metricsToken;
    const { prometheusMetrics } = await import('../prometheus').catch((error: unknown) => {
      throw new ConfigError(
        `TANDEM_METRICS_TOKEN needs the prom-client package: ${(error as Error).message}`,
      );
    });
    metrics = {
      metrics: prometheusMetrics(),
      metricsEndpoint: { authorize: (request) => bearerMatches(request, token) },
    };
  }
  const broker = await brokerOf(config);
  let hub: Hub;
  try {
    hub = createHub({
      ...access,
      ...metrics,
      broker,
      basePath: '',
      cors: config.corsOrigins
        ? { origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins }
        : false,
      maxConnections: config.maxConnections,
      maxEventBytes: config.maxEventBytes,
      maxStreamDurationMs: config.maxStreamDurationMs,
      closeTimeoutMs: config.closeTimeoutMs,
    });
  } catch (error) {
    await broker.close();
    throw error instanceof RangeError || error instanceof TypeError ? new ConfigError(error.message) : error;
  }

  let stopping: Promise<void> | null = null;
  const notFound = (res: ServerResponse) =>
    plain(res, 404, { error: { code: 'not_found', message: 'no endpoint here' } });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz')
      return plain(res, stopping ? 503 : 200, { status: stopping ? 'stopping' : 'serving' });
    if (path === '/readyz') {
      if (stopping) return plain(res, 503, { status: 'stopping' });
      void brokerAnswers(broker).then((up) =>
        plain(res, up ? 200 : 503, { status: up ? 'ready' : 'broker unavailable' }),
      );
      return;
    }
    hub.node(req, res, () => notFound(res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new ConfigError(`cannot listen: ${error.message}`)));
    server.listen(config.port ?? 8080, config.host ?? '0.0.0.0', () => resolve());
  }).catch(async (error) => {
    await hub.close();
    await broker.close();
    throw error;
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
  log('info', 'start', { port: address.port, host: address.address, url });
  log('info', 'config', {
    broker: config.redisUrl
      ? { kind: 'redis', url: redactUrl(config.redisUrl), prefix: config.redisPrefix ?? 'tandem' }
      : { kind: 'memory' },
    subscribers: config.secret
      ? 'HS256 tokens'
      : config.jwksUrl
        ? `tokens from ${config.jwksUrl}`
        : 'anonymous',
    publish: access.publishEndpoint
      ? { keys: config.publishKeys?.length ?? 0, tokens: access.publishEndpoint.authorize !== undefined }
      : 'off',
    cors: config.corsOrigins ?? 'off',
    metrics: config.metricsToken !== undefined,
    retentionMs: config.retentionMs,
    maxEventsPerChannel: config.maxEventsPerChannel,
    maxConnections: config.maxConnections,
  });

  // The broker's state, logged when it changes.
  let brokerUp = true;
  const watch = setInterval(async () => {
    const up = await brokerAnswers(broker);
    if (up !== brokerUp && !stopping) log(up ? 'info' : 'error', 'broker', { state: up ? 'up' : 'down' });
    brokerUp = up;
  }, BROKER_CHECK_MS);
  watch.unref();

  const stop = (reason: string) => {
    stopping ??= (async () => {
      clearInterval(watch);
      log('info', 'shutdown', { reason, streams: hub.stats().connections });
      server.close();
      server.closeIdleConnections();
      // Streams get `bye` and drain, for at most TANDEM_CLOSE_TIMEOUT_MS.
      await hub.close();
      server.closeAllConnections();
      await broker.close();
      log('info', 'stopped', { reason });
    })();
    return stopping;
  };
  return { url, hub, server, stop };
}
