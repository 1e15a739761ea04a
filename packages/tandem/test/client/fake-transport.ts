import type { StreamHandlers, StreamRequest, Transport } from '../../src/client/transports/transport';
import { encodeCursor, type HelloPayload, type ParsedEvent, TandemError } from '../../src/protocol';

/** One stream the client opened through the fake transport. */
export interface FakeStream {
  request: StreamRequest;
  handlers: StreamHandlers;
  openedAt: number;
  closed: boolean;
  hello(channels: HelloPayload['channels'], heartbeatMs?: number): void;
  event(channel: string, type: string, offset: number, epoch?: string, data?: unknown): void;
  control(type: string, payload: unknown): void;
  fail(error?: TandemError): void;
}

/** A transport whose streams the test drives by hand: the client's state machine, no sockets. */
export function fakeTransport(now: () => number): { transport: Transport; streams: FakeStream[] } {
  const streams: FakeStream[] = [];
  const transport: Transport = (request, handlers) => {
    const stream: FakeStream = {
      request,
      handlers,
      openedAt: now(),
      closed: false,
      hello(channels, heartbeatMs = 2000) {
        handlers.onOpen();
        const payload: HelloPayload = { connectionId: 'c', heartbeatMs, serverTime: now(), channels };
        this.control('tandem:hello', payload);
      },
      event(channel, type, offset, epoch = 'e1', data = offset) {
        if (stream.closed) return;
        handlers.onActivity();
        const parsed: ParsedEvent = {
          type,
          data: JSON.stringify({ channel, offset, epoch, ts: now(), data }),
          lastEventId: encodeCursor([[channel, { epoch, offset }]]),
        };
        handlers.onEvent(parsed);
      },
      control(type, payload) {
        if (stream.closed) return;
        handlers.onActivity();
        handlers.onEvent({ type, data: JSON.stringify(payload), lastEventId: '' });
      },
      fail(error = new TandemError('network', 'cut')) {
        if (stream.closed) return;
        stream.closed = true;
        handlers.onClose(error);
      },
    };
    streams.push(stream);
    return {
      close() {
        stream.closed = true;
      },
    };
  };
  return { transport, streams };
}
