import {
  COMPACT_WIRE,
  checkNumbers,
  createParser,
  errorFromResponse,
  parseRetryAfter,
  TandemError,
  WIRE_PARAM,
} from '../../protocol';
import { withParam } from '../urls';
import type { Transport } from './transport';

/** The subset of `fetch` the client needs; `globalThis.fetch` in browsers and Node ≥ 18. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface FetchTransportOptions {
  /** @default globalThis.fetch */
  fetch?: FetchLike;
  /** Whether cookies go with the request. @default 'same-origin' */
  credentials?: RequestCredentials;
  /** Largest event accepted by the parser. @default 1_048_576 */
  maxEventBytes?: number;
  /**
   * The frames to ask for: `'compact'`, whose bytes per event do not grow with the channels a
   * stream follows (a hub that does not offer it sends the classic ones, which the client reads
   * too), or `'classic'`, what a native EventSource gets. @default 'compact'
   */
  wire?: 'compact' | 'classic';
}

/** Reads an error body (JSON `{ error }`) without ever throwing. */
export async function responseError(response: Response, now = Date.now()): Promise<TandemError> {
  let body: unknown = null;
  try {
    body = JSON.parse(await response.text());
  } catch {
    // Not JSON (a proxy's page, an empty body): the status decides the code.
  }
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'), now);
  return errorFromResponse(response.status, body, retryAfter);
}

/**
 * The default transport: a streamed `fetch` read through the protocol's WHATWG parser. Unlike
 * EventSource it can send `Authorization` and an explicit `Last-Event-ID`, sees every event
 * type and reads the status and body of a refusal.
 */
export function fetchTransport(options: FetchTransportOptions = {}): Transport {
  const wire = options.wire ?? COMPACT_WIRE;
  if (wire !== COMPACT_WIRE && wire !== 'classic') {
    throw new RangeError(`fetchTransport: wire must be 'compact' or 'classic'`);
  }
  checkNumbers('fetchTransport', options, { maxEventBytes: { min: 1, integer: true } });
  return (request, handlers) => {
    const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const controller = new AbortController();
    let closed = false;
    const finish = (error: TandemError) => {
      if (closed) return;
      closed = true;
      controller.abort();
      handlers.onClose(error);
    };

    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (request.token) headers.Authorization = `Bearer ${request.token}`;
    if (request.cursor) headers['Last-Event-ID'] = request.cursor;

    const parser = createParser({
      maxEventBytes: options.maxEventBytes,
      onEvent: (event) => {
        if (!closed) handlers.onEvent(event);
      },
      // An oversized event is dropped by the parser; its offset leaves a hole the poller fills.
      onError: () => {},
    });

    (async () => {
      const url = wire === COMPACT_WIRE ? withParam(request.url, WIRE_PARAM, COMPACT_WIRE) : request.url;
      const response = await doFetch(url, {
        headers,
        signal: controller.signal,
        credentials: options.credentials ?? 'same-origin',
        cache: 'no-store',
      });
      if (closed) return;
      const type = response.headers.get('content-type') ?? '';
      if (response.status !== 200 || !type.toLowerCase().startsWith('text/event-stream')) {
        const error =
          response.status === 200
            ? new TandemError('network', `expected text/event-stream, got ${type || 'no content type'}`)
            : await responseError(response);
        finish(error);
        return;
      }
      if (!response.body) {
        finish(new TandemError('network', 'the stream response has no body'));
        return;
      }
      handlers.onOpen();
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (closed) return;
        if (done) break;
        handlers.onActivity();
        parser.feed(value);
      }
      finish(new TandemError('network', 'the server ended the stream'));
    })().catch((cause: unknown) => {
      finish(
        cause instanceof TandemError
          ? cause
          : new TandemError('network', `stream failed: ${(cause as Error)?.message ?? cause}`, { cause }),
      );
    });

    return {
      close() {
        if (closed) return;
        closed = true;
        controller.abort();
      },
    };
  };
}
