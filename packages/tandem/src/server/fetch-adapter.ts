import { extractToken, type HubRequest } from './auth';
import type { HubContext } from './context';
import { handle, type StreamOutcome } from './handler';
import { readBoundedStream } from './request-body';
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
      body: (maxBytes) => readBoundedStream(request.body, request.headers.get('content-length'), maxBytes),
    };
    const outcome = await handle(ctx, hubRequest, () => request.signal);
    if (outcome.kind === 'stream') return streamResponse(ctx, request, outcome);
    // While the hub closes, the runtime is told to close the connection after this answer, so
    // that the client's next try opens a new one, to the process that replaces this one.
    if (ctx.closing) outcome.headers.Connection = 'close';
    return new Response(outcome.body, { status: outcome.status, headers: outcome.headers });
  };
}

/**
 * Whether a stream watches its request's `signal`. Deno prints a notice, once per process, on
 * any read of a request's signal (it also aborts after a successful response there, a legacy
 * being phased out), and a client leaving must log nothing; Deno cancels the body when the
 * client leaves, which ends the stream as well. Other runtimes may only abort the signal.
 */
const WATCH_SIGNAL = typeof (globalThis as { Deno?: unknown }).Deno !== 'object';

function streamResponse(ctx: HubContext, request: Request, outcome: StreamOutcome): Response {
  const { connection } = outcome;
  const limit = ctx.settings.maxBufferedBytes;
  // The bytes the client has not taken wait in this queue, not in the stream's: the runtime
  // pulls one chunk per read. So they are counted here, and dropped here (a slow consumer cut, a
  // client gone) by ending the body quietly: erroring it would discard them too, but runtimes
  // log an errored response body as a failure (Hono on Node, Deno), and a client leaving is not one.
  let queue: Uint8Array[] = [];
  let queued = 0;
  /** The runtime waits for a chunk. */
  let reading = false;
  /** Ends the body once the queue is sent. */
  let ending = false;
  let drainWaiters: (() => void)[] = [];
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | null = null;
  let finished = false;

  const wakeDrained = () => {
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const resolve of waiters) resolve();
  };
  const finish = () => {
    if (finished) return;
    finished = true;
    queue = [];
    queued = 0;
    if (WATCH_SIGNAL) request.signal.removeEventListener('abort', onAbort);
    try {
      controllerRef?.close();
    } catch {
      // Already closed, or cancelled by the runtime.
    }
    wakeDrained();
    ctx.sinkClosed(sink);
  };
  const onAbort = () => {
    connection.abort('aborted');
    finish();
  };
  /** Hands the next chunk to the waiting read, or ends the body once asked and sent. */
  const give = () => {
    const chunk = queue.shift();
    if (chunk) {
      reading = false;
      queued -= chunk.length;
      controllerRef!.enqueue(chunk);
      if (queued <= limit / 2) wakeDrained();
    } else {
      reading = true;
    }
    // Closing after the last enqueue still lets the client read it.
    if (ending && queue.length === 0) finish();
  };

  const sink: Sink = {
    write(chunk) {
      if (finished || ending) return false;
      queue.push(chunk);
      queued += chunk.length;
      if (reading) give();
      return true;
    },
    writeShared: (shared) => sink.write(shared.plain),
    buffered: () => queued,
    drained: () =>
      finished || queued <= 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            drainWaiters.push(resolve);
          }),
    endShared: (last) => sink.end(last.plain),
    end(last) {
      if (finished || ending) return;
      if (last.length > 0) sink.write(last);
      ending = true;
      if (reading || queue.length === 0) give();
    },
    destroy: finish,
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controllerRef = controller;
      },
      pull: give,
      cancel() {
        connection.abort('aborted');
        finish();
      },
    },
    // Nothing is queued inside the stream: a chunk is enqueued only for a read that waits.
    { highWaterMark: 0 },
  );

  ctx.sinks.add(sink);
  if (WATCH_SIGNAL && request.signal.aborted) {
    onAbort();
  } else {
    if (WATCH_SIGNAL) request.signal.addEventListener('abort', onAbort);
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
