import { describe, expect, it } from 'vitest';
import { eventSourceTransport } from '../../src/client/transports/eventsource';
import type { StreamHandlers } from '../../src/client/transports/transport';
import type { TandemError } from '../../src/protocol';

class FakeEventSource {
  static last: FakeEventSource | null = null;
  readonly listeners = new Map<string, Array<(event: Event) => void>>();
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.last = this;
  }
  addEventListener(type: string, listener: (event: Event) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close() {
    this.closed = true;
  }
  emit(type: string, init: Record<string, unknown> = {}) {
    const event = Object.assign(new Event(type), init);
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}

function handlers() {
  const log: string[] = [];
  const errors: TandemError[] = [];
  const h: StreamHandlers = {
    onOpen: () => log.push('open'),
    onActivity: () => log.push('activity'),
    onEvent: (e) => log.push(`event ${e.type} ${e.data}`),
    onClose: (error) => errors.push(error),
  };
  return { h, log, errors };
}

describe('eventsource transport', () => {
  const open = (token: string | null, tokenIn?: 'query' | 'cookie') => {
    const t = handlers();
    const connection = eventSourceTransport({
      EventSource: FakeEventSource,
      tokenIn,
    })({ url: 'http://h/live/stream?channels=a', cursor: 't1~x.e1.5', token, types: ['order:created'] }, t.h);
    return { ...t, connection, source: FakeEventSource.last! };
  };

  it('passes the cursor explicitly and the token as a query parameter', () => {
    const { source } = open('tok');
    const url = new URL(source.url);
    expect(url.searchParams.get('cursor')).toBe('t1~x.e1.5');
    expect(url.searchParams.get('token')).toBe('tok');
    expect(url.searchParams.get('channels')).toBe('a');
  });

  it('leaves the token to a cookie when told', () => {
    const { source } = open('tok', 'cookie');
    expect(new URL(source.url).searchParams.has('token')).toBe(false);
  });

  it('listens to control events, the known app types and types added later', () => {
    const { source, log, connection } = open(null);
    source.emit('open');
    source.emit('tandem:ping', { data: '{"t":1}' });
    source.emit('order:created', { data: '{}' });
    source.emit('order:deleted', { data: '{}' });
    connection.listen?.('order:deleted');
    source.emit('order:deleted', { data: '{}' });
    expect(log.filter((l) => l.startsWith('event'))).toEqual([
      'event tandem:ping {"t":1}',
      'event order:created {}',
      'event order:deleted {}',
    ]);
  });

  it('closes the EventSource on the first error, so its own reconnect never runs, and reports the status', () => {
    const { source, errors, log } = open(null);
    source.emit('error', { code: 403, message: 'Forbidden' });
    expect(source.closed).toBe(true);
    expect(errors.map((e) => e.code)).toEqual(['forbidden']);
    source.emit('order:created', { data: '{}' });
    source.emit('error');
    expect(errors).toHaveLength(1);
    expect(log).toEqual([]);
  });

  it('reports a plain network error when the platform gives no status', () => {
    const { source, errors } = open(null);
    source.emit('error');
    expect(errors.map((e) => e.code)).toEqual(['network']);
  });
});
