/**
 * The compact wire (`?wire=compact`): Tandem's client asks for it, the hub names each channel
 * with a short id in the hello, and every event is one frame whose bytes depend neither on the
 * stream that receives it nor on how many channels that stream follows. EventSource and clients
 * that do not ask keep the classic frames. The fault, restart and wire tests run both wires;
 * this file checks what is particular to the compact one.
 */
import http, { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createLiveClient,
  type EventMeta,
  type EventSourceConstructor,
  eventSourceTransport,
  type FetchLike,
  fetchTransport,
  type LiveClient,
} from '../../src/client';
import { StreamDecoder } from '../../src/client/decode';
import {
  encodeCompactFrame,
  type HelloPayload,
  type ParsedEvent,
  parseCompactData,
} from '../../src/protocol';
import { createHub } from '../../src/server';
import { NodeEventSource } from '../client/harness';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { until } from '../helpers/wait';

/** A 100-byte JSON payload, as the benchmarks send. */
const PAYLOAD = { bt: 1_700_000_000_123, p: 'x'.repeat(70) };
const PAYLOAD_JSON = JSON.stringify(PAYLOAD);
const channels = (n: number) => Array.from({ length: n }, (_, i) => `room:${i}`);

/** A stream read as text (latin1: one character per byte), so frames are measured in bytes. */
function readStream(url: string) {
  let text = '';
  const req = http.get(url, { headers: { accept: 'text/event-stream' } });
  req.on('response', (res) => res.on('data', (chunk: Buffer) => (text += chunk.toString('latin1'))));
  req.on('error', () => {});
  return {
    /** Every complete frame so far, without its blank line. */
    frames: () => text.split('\n\n').slice(0, -1),
    close: () => req.destroy(),
  };
}

let srv: HubServer | undefined;
let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  await srv?.close();
  srv = undefined;
});

describe('compact wire on the server', () => {
  it('sends an event in the same bytes whether the stream follows 1, 8 or 64 channels, within payload + 48 B', async () => {
    srv = await startHubServer(createHub());
    const hub = srv.hub;
    const open = (n: number, wire: string) => {
      const stream = readStream(`${srv!.url}/stream?channels=${channels(n).join(',')}${wire}`);
      cleanups.push(stream.close);
      return stream;
    };
    const compact = [1, 8, 64].map((n) => open(n, '&wire=compact'));
    const classic = [1, 64].map((n) => open(n, ''));
    const all = [...compact, ...classic];
    await until(() => all.every((s) => s.frames().some((f) => f.includes('tandem:hello'))), 5_000);
    // Two events: the first of a new log comes after its tandem:epoch; the second is the usual case.
    await hub.publish('room:0', 'tick', PAYLOAD);
    await hub.publish('room:0', 'tick', PAYLOAD);
    const second = (s: ReturnType<typeof open>) => s.frames().filter((f) => f.includes(PAYLOAD_JSON))[1];
    expect(await until(() => all.every((s) => second(s) !== undefined), 5_000)).toBe(true);

    const frames = compact.map(second);
    expect(new Set(frames).size).toBe(1);
    const bytes = frames[0]!.length + 2;
    expect(bytes).toBeLessThanOrEqual(PAYLOAD_JSON.length + 48);
    const parsed = parseCompactData(frames[0]!.split('\ndata:')[1]!)!;
    expect(parsed).toMatchObject({ offset: 2, json: PAYLOAD_JSON });
    // The classic frames carry the whole cursor: they grow with the channels.
    const [one, many] = classic.map((s) => second(s)!.length + 2);
    expect(many! - one!).toBeGreaterThan(63 * 10);
    // The new log's epoch was told before its first event, once.
    for (const s of compact) expect(s.frames().filter((f) => f.includes('tandem:epoch'))).toHaveLength(1);
  });

  it('writes one shared buffer to every compact stream of a channel, whatever its other channels', async () => {
    const hub = createHub();
    const writes = new Map<ServerResponse, Uint8Array[]>();
    const server = createServer((req, res) => {
      const chunks: Uint8Array[] = [];
      writes.set(res, chunks);
      const socket = req.socket as unknown as { write: (chunk: Uint8Array) => boolean };
      const write = socket.write.bind(socket);
      socket.write = (chunk) => {
        chunks.push(chunk);
        return write(chunk);
      };
      hub.node(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      await hub.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await hub.publish('room:0', 'tick', 0); // the log exists: no tandem:epoch below
    const sets = [['room:0'], ['room:0', 'room:1'], ['room:2', 'room:0', ...channels(64).slice(3)]];
    const streams = sets.map((set) => readStream(`${base}/stream?channels=${set.join(',')}&wire=compact`));
    cleanups.push(() => {
      for (const s of streams) s.close();
    });
    await until(() => streams.every((s) => s.frames().some((f) => f.includes('tandem:hello'))), 5_000);
    const before = new Map([...writes].map(([res, chunks]) => [res, chunks.length]));

    await hub.publish('room:0', 'tick', PAYLOAD);
    expect(
      await until(() => streams.every((s) => s.frames().some((f) => f.includes(PAYLOAD_JSON))), 5_000),
    ).toBe(true);
    const written = [...writes].map(([res, chunks]) => chunks.slice(before.get(res)));
    expect(written.map((w) => w.length)).toEqual([1, 1, 1]);
    expect(written[1]![0]).toBe(written[0]![0]);
    expect(written[2]![0]).toBe(written[0]![0]);
  });

  it('keeps the classic frames for a stream that does not ask, or asks for a wire it does not know', async () => {
    srv = await startHubServer(createHub());
    const streams = ['', '&wire=v9'].map((q) => readStream(`${srv!.url}/stream?channels=a,b${q}`));
    cleanups.push(() => {
      for (const s of streams) s.close();
    });
    await until(() => streams.every((s) => s.frames().length > 0), 5_000);
    await srv.hub.publish('a', 'tick', 1);
    const event = (s: (typeof streams)[0]) => s.frames().find((f) => f.includes('event: tick'));
    expect(await until(() => streams.every((s) => event(s) !== undefined), 5_000)).toBe(true);
    for (const s of streams) {
      const hello = s.frames()[0]!;
      expect(hello).not.toMatch(/"wire"|"id":/);
      expect(event(s)).toMatch(/^id: t1~.+~.+\nevent: tick\ndata: \{"channel":"a","offset":1,/);
      expect(s.frames().some((f) => f.includes('tandem:epoch'))).toBe(false);
    }
  });
});

/** A client that records what its app sees, with every field of the meta. */
function metaRecorder(client: LiveClient) {
  const seen: (EventMeta & { data: unknown })[] = [];
  client.onAny((_type, data, meta) => seen.push({ ...meta, data }));
  client.start();
  cleanups.push(() => client.close());
  return Object.assign(seen, { open: () => client.getState().status === 'open' });
}

describe("compact wire in Tandem's client", () => {
  it('delivers the same events, with the same meta, as the classic wire does', async () => {
    srv = await startHubServer(createHub());
    const urls: string[] = [];
    const recordingFetch: FetchLike = (input, init) => {
      urls.push(input);
      return fetch(input, init);
    };
    const wires = (['compact', 'classic'] as const).map((wire) =>
      metaRecorder(
        createLiveClient({
          url: srv!.url,
          channels: ['a', 'b', 'c'],
          storage: null,
          transport: fetchTransport({ fetch: recordingFetch, wire }),
        }),
      ),
    );
    expect(await until(() => wires.every((seen) => seen.open()), 5_000)).toBe(true);
    for (let i = 0; i < 30; i++)
      await srv.hub.publish(['a', 'b', 'c'][i % 3]!, i % 2 ? 'odd' : 'even', { i });
    expect(await until(() => wires.every((seen) => seen.length === 30), 10_000)).toBe(true);
    const [compact, classic] = wires;
    expect([...compact!]).toEqual([...classic!]);
    expect(compact!.every((e) => e.source === 'stream')).toBe(true);
    expect(urls.filter((u) => u.includes('/stream?')).map((u) => u.includes('wire=compact'))).toEqual(
      expect.arrayContaining([true, false]),
    );
  });

  it('reads the classic frames of a hub that does not offer the compact wire', async () => {
    srv = await startHubServer(createHub());
    // An older hub: the request's wire parameter never reaches anything that knows it.
    const olderHub: FetchLike = (input, init) => fetch(input.replace(/&wire=compact/, ''), init);
    const seen = metaRecorder(
      createLiveClient({
        url: srv.url,
        channels: ['a', 'b'],
        storage: null,
        transport: fetchTransport({ fetch: olderHub }),
      }),
    );
    expect(await until(seen.open, 5_000)).toBe(true);
    await srv.hub.publish('a', 'tick', 1);
    await srv.hub.publish('b', 'tick', 2);
    expect(await until(() => seen.length === 2, 5_000)).toBe(true);
    expect(seen.map((e) => [e.channel, e.offset, e.data, e.source])).toEqual([
      ['a', 1, 1, 'stream'],
      ['b', 1, 2, 'stream'],
    ]);
  });

  it('leaves the EventSource transport on the classic frames', async () => {
    srv = await startHubServer(createHub());
    const urls: string[] = [];
    const Recording = new Proxy(NodeEventSource, {
      construct(target, args: ConstructorParameters<EventSourceConstructor>) {
        urls.push(args[0]);
        return new target(...args);
      },
    });
    const seen = metaRecorder(
      createLiveClient({
        url: srv.url,
        channels: ['a', 'b'],
        storage: null,
        eventTypes: ['tick'],
        transport: eventSourceTransport({ EventSource: Recording }),
      }),
    );
    expect(await until(seen.open, 5_000)).toBe(true);
    await srv.hub.publish('a', 'tick', 1);
    expect(await until(() => seen.length === 1, 5_000)).toBe(true);
    expect(seen[0]!.source).toBe('stream');
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url).not.toContain('wire=');
  });

  it('refuses a wire it does not know when the transport is made', () => {
    expect(() => fetchTransport({ wire: 'binary' as 'compact' })).toThrow(RangeError);
    expect(() => fetchTransport({ wire: 'binary' as 'compact' })).toThrow(/wire/);
  });
});

describe('StreamDecoder', () => {
  const parsed = (type: string, data: string): ParsedEvent => ({ type, data, lastEventId: '' });
  const hello: HelloPayload = {
    connectionId: 'c',
    heartbeatMs: 2000,
    serverTime: 0,
    wire: 'compact',
    channels: { a: { epoch: 'e1', head: 0, recovered: false, id: '0' } },
  };
  const compactFrame = (offset: number) => {
    const text = encodeCompactFrame('t', { id: '0', offset, ts: 1_700_000_000_000, json: '{"n":1}' });
    return parsed('t', text.split('\ndata:')[1]!.slice(0, -2));
  };

  it('names the channel and epoch of a compact event from the hello, and follows tandem:epoch', () => {
    const decoder = new StreamDecoder();
    expect(decoder.decode(parsed('tandem:hello', JSON.stringify(hello))).kind).toBe('hello');
    expect(decoder.decode(compactFrame(1))).toEqual({
      kind: 'event',
      event: {
        channel: 'a',
        type: 't',
        offset: 1,
        epoch: 'e1',
        ts: 1_700_000_000_000,
        data: { n: 1 },
        source: 'stream',
      },
    });
    decoder.decode(parsed('tandem:epoch', '{"channel":"a","epoch":"e2"}'));
    expect(decoder.decode(compactFrame(1))).toMatchObject({
      kind: 'event',
      event: { epoch: 'e2', offset: 1 },
    });
  });

  it('reads classic frames until a hello says compact, and drops what it cannot place', () => {
    const decoder = new StreamDecoder();
    const classic = parsed('t', '{"channel":"a","offset":3,"epoch":"e","ts":1,"data":7}');
    expect(decoder.decode(classic)).toMatchObject({ kind: 'event', event: { channel: 'a', offset: 3 } });
    decoder.decode(parsed('tandem:hello', JSON.stringify(hello)));
    expect(decoder.decode(parsed('t', '9 1 1 {}'))).toEqual({ kind: 'invalid' }); // unknown id
    expect(decoder.decode(parsed('t', '0 1 1 {'))).toEqual({ kind: 'invalid' }); // broken JSON
    expect(decoder.decode(parsed('t', '0 -1 1 {}'))).toEqual({ kind: 'invalid' });
    expect(decoder.decode(parsed('t', '0 1 {}'))).toEqual({ kind: 'invalid' });
    expect(decoder.decode(parsed('t', '0 1 1 null'))).toMatchObject({ kind: 'event', event: { data: null } });
    // A fractional ts (an injected clock) is written exactly in decimal.
    const text = encodeCompactFrame('t', { id: '0', offset: 2, ts: 12.5, json: '1' });
    expect(parseCompactData(text.split('\ndata:')[1]!.slice(0, -2))).toEqual({
      id: '0',
      offset: 2,
      ts: 12.5,
      json: '1',
    });
  });
});
