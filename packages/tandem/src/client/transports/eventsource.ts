import { CONTROL_EVENTS, errorFromResponse, PRESENCE_EVENT, TandemError } from '../../protocol';
import { withParam } from '../urls';
import type { Transport } from './transport';

/** What the transport needs of an EventSource: the platform's, or e.g. the `eventsource` package. */
export interface EventSourceLike {
  addEventListener(type: string, listener: (event: Event) => void): void;
  close(): void;
}
export type EventSourceConstructor = new (
  url: string,
  init?: { withCredentials?: boolean },
) => EventSourceLike;

export interface EventSourceTransportOptions {
  /** @default globalThis.EventSource */
  EventSource?: EventSourceConstructor;
  /**
   * How the token travels: `'query'` as the `token` query parameter (EventSource cannot send
   * headers), or `'cookie'`, set by the app, with nothing added to the URL. @default 'query'
   */
  tokenIn?: 'query' | 'cookie';
  /** Send cookies cross-origin. @default false */
  withCredentials?: boolean;
}

/**
 * A native EventSource, used as a one-shot connection: the client closes it on the first error
 * (so its built-in reconnect, which would reuse a stale `Last-Event-ID` on its own schedule,
 * never fights ours) and opens a new one with the cursor passed explicitly as `cursor`.
 * EventSource dispatches only the event types it has listeners for, so the app's types are
 * registered as they become known; events of other types leave holes the poller fills.
 */
export function eventSourceTransport(options: EventSourceTransportOptions = {}): Transport {
  const open: Transport = (request, handlers) => {
    const Source =
      options.EventSource ?? (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
    let closed = false;
    let source: EventSourceLike | null = null;
    const finish = (error: TandemError) => {
      if (closed) return;
      closed = true;
      source?.close();
      handlers.onClose(error);
    };
    if (!Source) {
      queueMicrotask(() =>
        finish(new TandemError('network', 'no EventSource here: pass one, or use the fetch transport')),
      );
      return {
        close() {
          closed = true;
        },
      };
    }

    let url = request.url;
    if (request.cursor) url = withParam(url, 'cursor', request.cursor);
    if (request.token && (options.tokenIn ?? 'query') === 'query')
      url = withParam(url, 'token', request.token);

    const listened = new Set<string>();
    const listen = (type: string) => {
      if (listened.has(type) || !source) return;
      listened.add(type);
      source.addEventListener(type, (event) => {
        if (closed) return;
        const message = event as MessageEvent;
        handlers.onActivity();
        handlers.onEvent({ type, data: String(message.data), lastEventId: message.lastEventId ?? '' });
      });
    };

    try {
      source = new Source(url, { withCredentials: options.withCredentials ?? false });
    } catch (cause) {
      queueMicrotask(() => finish(new TandemError('network', 'could not create the EventSource', { cause })));
      return {
        close() {
          closed = true;
        },
      };
    }
    source.addEventListener('open', () => {
      if (closed) return;
      handlers.onActivity();
      handlers.onOpen();
    });
    source.addEventListener('error', (event) => {
      // The platform gives no status; the `eventsource` package adds `code` and `message`.
      const { code, message } = event as Event & { code?: number; message?: string };
      finish(
        typeof code === 'number'
          ? errorFromResponse(code, null)
          : new TandemError('network', message ? `stream failed: ${message}` : 'the stream failed or ended'),
      );
    });
    for (const type of [...Object.values(CONTROL_EVENTS), PRESENCE_EVENT]) listen(type);
    listen('message');
    for (const type of request.types) listen(type);

    return {
      close() {
        if (closed) return;
        closed = true;
        source?.close();
      },
      listen,
    };
  };
  return Object.assign(open, { seesStatus: false });
}
