import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/protocol';
import { createHub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { until } from '../helpers/wait';

let server: HubServer | undefined;
let source: EventSource | undefined;
afterEach(async () => {
  source?.close();
  await server?.close();
  server = undefined;
});

describe('the eventsource package as a native-EventSource client', () => {
  it('resumes after the server cuts it, with only its automatic Last-Event-ID: no loss, no duplicates', async () => {
    server = await startHubServer(createHub({ retryMs: 50 }));
    const { hub } = server;
    const received: number[] = [];
    const lastEventIds: string[] = [];
    let hellos = 0;
    let resyncs = 0;
    let requestsWithLastEventId = 0;
    const sockets = new Set<import('node:net').Socket>();
    server.server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.server.on('request', (req) => {
      if (req.headers['last-event-id']) requestsWithLastEventId++;
    });

    source = new EventSource(`${server.url}/stream?channels=tenant:acme/orders,tenant:acme/stock`);
    source.addEventListener('tandem:hello', () => hellos++);
    source.addEventListener('tandem:resync', () => resyncs++);
    source.addEventListener('order', (event) => {
      received.push((JSON.parse(event.data) as EventEnvelope<number>).data);
      lastEventIds.push(event.lastEventId);
    });
    await until(() => hellos === 1);

    let n = 0;
    const publish = async (count: number) => {
      for (let i = 0; i < count; i++) {
        n++;
        await hub.publish(n % 2 ? 'tenant:acme/orders' : 'tenant:acme/stock', 'order', n);
      }
    };

    for (let round = 0; round < 5; round++) {
      await publish(20);
      await until(() => received.length === n);
      // The server cuts the stream, gracefully (bye) or by dropping the socket; events published
      // before the client is back are missed live.
      if (round % 2 === 0) expect(hub.disconnect({})).toBe(1);
      else for (const socket of sockets) socket.destroy();
      await publish(15);
      await until(() => hellos === round + 2);
    }
    await publish(10);
    await until(() => received.length === n);
    // A fence: once an event published after all others has arrived on this one connection, any
    // duplicate the server sent of an earlier one has arrived too.
    await publish(1);
    await until(() => received.at(-1) === n);

    // Everything once, and in order per channel (odd numbers on orders, even on stock).
    expect([...received].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const odd = received.filter((v) => v % 2 === 1);
    const even = received.filter((v) => v % 2 === 0);
    expect(odd).toEqual([...odd].sort((a, b) => a - b));
    expect(even).toEqual([...even].sort((a, b) => a - b));
    expect(resyncs).toBe(0);
    expect(requestsWithLastEventId).toBe(5);
    expect(lastEventIds.every((id) => id.startsWith('t1~'))).toBe(true);
  });
});
