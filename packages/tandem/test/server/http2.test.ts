/**
 * The Node adapter behind `node:http2` (cleartext, compatibility API): streams go through
 * `res.write` (no chunked coding to frame, no connection headers, which HTTP/2 forbids).
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createParser, type ParsedEvent } from '../../src/protocol';
import { createHub, type Hub } from '../../src/server';
import { until } from '../helpers/wait';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function serve(hub: Hub) {
  const server = http2.createServer(hub.node as unknown as Parameters<typeof http2.createServer>[0]);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  cleanup = async () => {
    session.close();
    await hub.close();
    await new Promise((resolve) => server.close(resolve));
  };
  return session;
}

describe('HTTP/2', () => {
  it('streams hello, events and bye, without connection headers', async () => {
    const hub = createHub();
    const session = await serve(hub);
    const req = session.request({ ':path': '/live/stream?channels=a', accept: 'text/event-stream' });
    const events: ParsedEvent[] = [];
    const parser = createParser({ onEvent: (e) => events.push(e) });
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => req.on('response', resolve));
    req.on('data', (chunk: Buffer) => parser.feed(chunk));
    const ended = new Promise<void>((resolve) => req.on('end', () => resolve()));

    expect(headers[':status']).toBe(200);
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(headers.connection).toBeUndefined();
    expect(headers['keep-alive']).toBeUndefined();
    expect(headers['transfer-encoding']).toBeUndefined();
    await until(() => events.some((e) => e.type === 'tandem:hello'));

    await hub.publish('a', 'x', 1);
    await Promise.all([hub.publish('a', 'x', 2), hub.publish('a', 'x', 3)]);
    await until(() => events.filter((e) => e.type === 'x').length === 3);
    expect(events.filter((e) => e.type === 'x').map((e) => JSON.parse(e.data).data)).toEqual([1, 2, 3]);

    expect(hub.disconnect({})).toBe(1);
    await ended;
    expect(events.at(-1)!.type).toBe('tandem:bye');
  });
});
