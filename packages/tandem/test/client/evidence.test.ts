import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchTransport } from '../../src/client/transports/fetch';
import type { Transport } from '../../src/client/transports/transport';
import { createHub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { lossyBroker } from '../helpers/lossy-broker';
import { openRaw, type RawStream } from '../server/sse-reader';
import { type Recording, recordedClient } from './harness';

/** Polls on evidence only: a real hub whose live feed loses an event, a real client. */
describe('polls on evidence', () => {
  let server: HubServer | undefined;
  let raw: RawStream | undefined;
  const clients: Recording[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.client.close();
    raw?.close();
    await server?.close();
    server = raw = undefined;
  });

  /** A client on channel `a` that counts its polls and the heartbeats its stream brought. */
  function client(url: string, poll: Record<string, unknown> = {}) {
    const counts = { polls: 0, pings: 0, streams: 0 };
    const fetch: typeof globalThis.fetch = (input, init) => {
      if (String(input).includes('/poll')) counts.polls++;
      return globalThis.fetch(input, init);
    };
    const inner = fetchTransport({ fetch });
    const transport: Transport = (request, handlers) => {
      counts.streams++;
      return inner(request, {
        ...handlers,
        onEvent(event) {
          if (event.type === 'tandem:ping') counts.pings++;
          handlers.onEvent(event);
        },
      });
    };
    const rec = recordedClient({
      url,
      channels: ['a'],
      transport,
      fetch,
      poll: { headsGraceMs: 300, ...poll },
      // Fast heartbeats for the test, without a busy machine's stalls counting as a dead stream.
      watchdog: { timeoutMs: 10_000 },
    });
    clients.push(rec);
    rec.client.start();
    return { rec, counts };
  }

  it('no poll while the stream keeps up; one when a heartbeat shows an event it lost', async () => {
    // The hub's live feed loses offset 2: only its log has it.
    server = await startHubServer(
      createHub({ heartbeatMs: 100, broker: lossyBroker((e) => e.offset === 2) }),
    );
    const { rec, counts } = client(server.url);
    await vi.waitFor(() => expect(rec.client.getState().status).toBe('open'));
    // A start slower than the 3 s poll of a stream not yet open may have polled once: count from here.
    const before = counts.polls;
    await server.hub.publish('a', 'x', 1);
    await vi.waitFor(() => expect(rec.count()).toBe(1));
    const pings = counts.pings;
    await vi.waitFor(() => expect(counts.pings).toBeGreaterThan(pings + 10), { timeout: 10_000 });
    expect(counts.polls).toBe(before);

    await server.hub.publish('a', 'x', 2);
    // Another stream's start reads head 2 from the log: from now on the heartbeats say so.
    raw = await openRaw(`${server.url}/stream?channels=a`);
    await vi.waitFor(() => expect(rec.count()).toBe(2), { timeout: 10_000 });
    expect(rec.events.map((e) => [e.offset, e.source])).toEqual([
      [1, 'stream'],
      [2, 'poll'],
    ]);
    const polls = counts.polls;
    expect(polls).toBeGreaterThan(before);
    // Caught up: later heartbeats (which say 2) bring no poll, and the stream never dropped.
    const after = counts.pings;
    await vi.waitFor(() => expect(counts.pings).toBeGreaterThan(after + 10), { timeout: 10_000 });
    expect(counts.polls).toBe(polls);
    expect(counts.streams).toBe(1);
    expect(rec.client.getState()).toMatchObject({ status: 'open', attempt: 0 });
    expect(rec.violations).toEqual([]);
  });

  it('polls on a timer while the stream is open when asked to', async () => {
    server = await startHubServer(createHub({ heartbeatMs: 100 }));
    const { rec, counts } = client(server.url, { openIntervalMs: 200 });
    await vi.waitFor(() => expect(rec.client.getState().status).toBe('open'));
    await vi.waitFor(() => expect(counts.polls).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
    expect(counts.streams).toBe(1);
  });
});
