import { extractToken, type HubRequest } from './auth';
import type { HubContext } from './context';
import { handle, type StreamOutcome } from './handler';
import type { Sink } from './sink';

/**
 * The Fetch API adapter (Next.js App Router, Hono, Bun, Deno): `Request → Response`, the stream
 * through a byte-counting `ReadableStream`. The connection ends on the request's abort signal
 * and on the stream's cancel, since not every runtime fires the former.
 */
export function createFetchHandler(ctx: HubContext): (request: Request) => Promise<Response> {
  // An arrow function: `export const GET = hub.fetch` calls it unbound.
  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const hubRequest: HubRequest = {
      method: request.method,
      url,
      pathname: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      token: extractToken(request.headers, url, ctx.settings.tokenCookie),
      raw: request,
    };
    const outcome = await handle(ctx, hubRequest, () => request.signal);
    if (outcome.kind === 'stream') return streamResponse(ctx, request, outcome);
    return new Response(outcome.body, { status: outcome.status, headers: outcome.headers });
  };
}

function streamResponse(ctx: HubContext, request: Request, outcome: StreamOutcome): Response {
  const { connection } = outcome;
  const limit = ctx.settings.maxBufferedBytes;
  let drainWaiters: (() => void)[] = [];
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | null = null;
  let finished = false;

  const wakeDrained = () => {
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const resolve of waiters) resolve();
  };
  const buffered = () => (controllerRef ? limit - (controllerRef.desiredSize ?? 0) : 0);
  const finish = () => {
    if (finished) return;
    finished = true;
    request.signal.removeEventListener('abort', onAbort);
    wakeDrained();
    ctx.sinkClosed(sink);
  };
  const onAbort = () => {
    connection.abort('aborted');
    finish();
  };

  const sink: Sink = {
    write(chunk) {
      if (finished || !controllerRef) return false;
      try {
        controllerRef.enqueue(chunk);
        return true;
      } catch {
        return false;
      }
    },
    writeShared: (shared) => sink.write(shared.plain),
    buffered,
    drained: () =>
      finished || buffered() <= 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            drainWaiters.push(resolve);
          }),
    endShared: (last) => sink.end(last.plain),
    end(last) {
      sink.write(last);
      try {
        controllerRef?.close();
      } catch {
        // Already closed or errored.
      }
      finish();
    },
    destroy() {
      try {
        // Erroring (not closing) discards the queued bytes at once.
        controllerRef?.error(new Error('tandem: stream closed'));
      } catch {
        // Already closed or errored.
      }
      finish();
    },
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controllerRef = controller;
      },
      pull() {
        if (buffered() <= limit / 2) wakeDrained();
      },
      cancel() {
        connection.abort('aborted');
        finish();
      },
    },
    { highWaterMark: limit, size: (chunk) => chunk.byteLength },
  );

  ctx.sinks.add(sink);
  if (request.signal.aborted) {
    onAbort();
  } else {
    request.signal.addEventListener('abort', onAbort);
    connection.start(sink, outcome.prelude, outcome.replay).catch((error) => {
      ctx.reportError(error);
      connection.abort('aborted');
    });
  }
  return new Response(body, {
    status: 200,
    // No `Keep-Alive`: only the server running this handler knows how long it keeps a socket.
    headers: { ...outcome.headers, Connection: 'keep-alive' },
  });
}
