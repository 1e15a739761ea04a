import { isTandemError, parseChannelList, TandemError } from '../protocol';
import { authenticate, type HubRequest, permit } from './auth';
import type { Connection } from './connection';
import type { HubContext } from './context';
import type { HeaderMap } from './cors';
import { poll } from './poll';
import { publishEndpoint } from './publish-endpoint';
import type { Replay } from './replay';
import { openStream } from './stream';

/** A plain response: JSON error or body, metrics text, 204 or 304. */
export interface PlainOutcome {
  kind: 'response';
  status: number;
  headers: HeaderMap;
  body: string | null;
}

/** A stream to start: the adapter attaches its sink and calls `connection.start`. */
export interface StreamOutcome {
  kind: 'stream';
  headers: HeaderMap;
  connection: Connection;
  prelude: Uint8Array;
  replay: Replay;
}

export type Outcome = PlainOutcome | StreamOutcome;

export type Route = 'stream' | 'poll' | 'metrics' | 'publish';

/** Headers on every response (docs/protocol.md, Errors). */
export const COMMON_HEADERS: HeaderMap = {
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
};

/**
 * The endpoint a path names: exact under `basePath`, else by its last segment. `/metrics` and
 * `/publish` are the hub's only when it serves them.
 */
export function route(
  pathname: string,
  basePath: string | undefined,
  metrics: boolean,
  publish = false,
): Route | null {
  let rest: string;
  if (basePath !== undefined) {
    if (!pathname.startsWith(basePath)) return null;
    rest = pathname.slice(basePath.length);
  } else {
    rest = pathname.slice(pathname.lastIndexOf('/'));
  }
  if (rest === '/stream') return 'stream';
  if (rest === '/poll') return 'poll';
  if (rest === '/metrics' && metrics) return 'metrics';
  if (rest === '/publish' && publish) return 'publish';
  return null;
}

export function json(status: number, body: unknown, headers: HeaderMap): PlainOutcome {
  return jsonText(status, JSON.stringify(body), headers);
}

/** A JSON answer whose text is already made. */
export function jsonText(status: number, text: string, headers: HeaderMap): PlainOutcome {
  return {
    kind: 'response',
    status,
    headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' },
    body: text,
  };
}

export function errorOutcome(ctx: HubContext, error: unknown, headers: HeaderMap): PlainOutcome {
  let tandem: TandemError;
  if (isTandemError(error)) {
    tandem = error;
  } else {
    ctx.reportError(error);
    tandem = new TandemError('internal', 'internal server error');
  }
  const status = tandem.status ?? 500;
  ctx.metrics.refused(tandem.code);
  const extra: HeaderMap = { ...headers };
  if (status === 429 || status === 503) extra['Retry-After'] = String(ctx.settings.retryAfterSeconds);
  if (status === 405) extra.Allow = 'GET, OPTIONS';
  return json(status, tandem.toJSON(), extra);
}

/**
 * The request's abort signal, made on first call: only a long poll waits and needs one, and a
 * stream or a short poll must not pay for a controller and a listener each.
 */
export type SignalSource = () => AbortSignal;

/** Handles one request, whatever the runtime; the adapters only translate in and out. */
export async function handle(ctx: HubContext, request: HubRequest, signal: SignalSource): Promise<Outcome> {
  const origin = request.headers.get('origin');
  // A fresh object per request, which the handlers below may extend in place.
  const headers: HeaderMap = {
    'Cache-Control': COMMON_HEADERS['Cache-Control']!,
    'X-Accel-Buffering': COMMON_HEADERS['X-Accel-Buffering']!,
  };
  if (ctx.cors) Object.assign(headers, ctx.cors.headers(origin));
  const endpoint = route(
    request.pathname,
    ctx.settings.basePath,
    ctx.settings.metricsEndpoint !== undefined,
    ctx.settings.publishEndpoint !== undefined,
  );
  try {
    if (request.method === 'OPTIONS' && ctx.cors) {
      const preflight = ctx.cors.preflight(origin);
      // The publish endpoint takes POST, with its JSON body (a publisher token from a page).
      if (endpoint === 'publish' && preflight['Access-Control-Allow-Methods']) {
        preflight['Access-Control-Allow-Methods'] = 'POST, OPTIONS';
      }
      return { kind: 'response', status: 204, headers: { ...headers, ...preflight }, body: null };
    }
    if (!endpoint) throw new TandemError('not_found', `no endpoint at ${request.pathname.slice(0, 200)}`);
    if (request.method !== (endpoint === 'publish' ? 'POST' : 'GET'))
      throw new TandemError('method_not_allowed', `${request.method} is not allowed`);
    if (ctx.closing) throw new TandemError('shutting_down', 'the server is shutting down');
    if (endpoint === 'metrics') return await metrics(ctx, request, headers);
    if (endpoint === 'publish') return await publishEndpoint(ctx, request, headers);
    const grant = await authenticate(ctx.settings.authorize, request, ctx.env.now());
    const channels = parseChannelList(request.query.get('channels'));
    permit(grant, channels);
    if (endpoint === 'stream') return await openStream(ctx, request, grant, channels, headers);
    return await poll(ctx, request, channels, headers, signal);
  } catch (error) {
    const outcome = errorOutcome(ctx, error, headers);
    if (endpoint === 'publish' && outcome.status === 405) outcome.headers.Allow = 'POST';
    return outcome;
  }
}

/** `GET {base}/metrics`: routed here only with `metricsEndpoint` and a sink that renders. */
async function metrics(ctx: HubContext, request: HubRequest, headers: HeaderMap): Promise<Outcome> {
  if (!(await ctx.settings.metricsEndpoint!.authorize(request))) {
    throw new TandemError('forbidden', 'not permitted to read metrics');
  }
  const { contentType, body } = await ctx.metricsSink!.render!();
  return { kind: 'response', status: 200, headers: { ...headers, 'Content-Type': contentType }, body };
}
