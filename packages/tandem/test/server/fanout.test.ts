import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveEvent } from '../../src/protocol';
import { type Broker, createHub, type Hub, memoryBroker } from '../../src/server';
import { openRaw } from './sse-reader';

/**
 * Serves a hub while recording every chunk written to each stream's socket (after its first
 * write, which goes through `res.write` with the headers, the hub writes framed chunks there).
 */
async function recordingServer(hub: Hub) {
  const writes = new Map<ServerResponse, Uint8Array[]>();
  const handler = hub.node;
  const server = createServer((req, res) => {
    const chunks: Uint8Array[] = [];
    writes.set(res, chunks);
    const socket = req.socket as unknown as { write: (chunk: Uint8Array) => boolean };
    const write = socket.write.bind(socket);
    socket.write = (chunk) => {
      chunks.push(chunk);
      return write(chunk);
    };
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    writes,
    async close() {
      await hub.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('fan-out', () => {
  it('writes one shared Buffer to every single-channel subscriber, and coalesces a tick into one write', async () => {
    const hub = createHub();
    const srv = await recordingServer(hub);
    close = srv.close;
    const streams = await Promise.all([1, 2, 3].map(() => openRaw(`${srv.url}/stream?channels=room`)));
    await Promise.all(streams.map((s) => s.next((e) => e.type === 'tandem:hello')));
    const before = new Map([...srv.writes].map(([res, chunks]) => [res, chunks.length]));

    // 100 events published in the same tick.
    await Promise.all(Array.from({ length: 100 }, (_, i) => hub.publish('room', 'msg', { i })));
    await Promise.all(
      streams.map((s) => s.next((e) => e.type === 'msg' && JSON.parse(e.data).data.i === 99)),
    );

    const batches = [...srv.writes].map(([res, chunks]) => chunks.slice(before.get(res)));
    for (const batch of batches) expect(batch.length).toBe(1);
    // The very same Buffer object, framed as one HTTP/1.1 chunk, went to all three
    // connections: serialised and framed once.
    expect(batches[1]![0]).toBe(batches[0]![0]);
    expect(batches[2]![0]).toBe(batches[0]![0]);
    const chunk = Buffer.from(batches[0]![0]!).toString('latin1');
    const size = /^([0-9a-f]+)\r\n/.exec(chunk);
    expect(size).not.toBeNull();
    expect(chunk.length).toBe(size![0].length + Number.parseInt(size![1]!, 16) + 2);
    expect(chunk.endsWith('\n\n\r\n')).toBe(true);
    for (const s of streams) {
      expect(s.appEvents().map((e) => e.offset)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      s.close();
    }
  });

  it('gives a multi-channel connection its own id line with the cursor of all its channels', async () => {
    const hub = createHub();
    const srv = await recordingServer(hub);
    close = srv.close;
    const both = await openRaw(`${srv.url}/stream?channels=a,b`);
    const onlyA = await openRaw(`${srv.url}/stream?channels=a`);
    await Promise.all([both, onlyA].map((s) => s.next((e) => e.type === 'tandem:hello')));
    await hub.publish('b', 'x', 'b1');
    await hub.publish('a', 'x', 'a1');
    await both.next((e) => JSON.parse(e.data).data === 'a1');
    await onlyA.next((e) => JSON.parse(e.data).data === 'a1');
    const [b1, a1] = both.appEvents();
    // Two entries, one per channel: the id after a1 still remembers b's position.
    expect(a1!.id.split('~')).toHaveLength(3);
    expect(a1!.id.split('~')[2]).toBe(b1!.id.split('~')[2]);
    expect(onlyA.appEvents()[0]!.id.split('~')).toHaveLength(2);
    both.close();
    onlyA.close();
  });

  it('drops a duplicate from the feed, and turns a hole or a new epoch into resync before going on', async () => {
    const inner = memoryBroker();
    const listeners = new Set<(e: LiveEvent) => void>();
    const broker: Broker = {
      ...inner,
      subscribe(channel, listener) {
        listeners.add(listener);
        const off = inner.subscribe(channel, listener);
        return () => {
          listeners.delete(listener);
          off();
        };
      },
    };
    const inject = (e: Partial<LiveEvent>) => {
      for (const l of listeners)
        l({ channel: 'a', type: 'x', data: null, ts: Date.now(), offset: 0, epoch: '', ...e });
    };
    const hub = createHub({ broker });
    const srv = await recordingServer(hub);
    close = srv.close;
    const stream = await openRaw(`${srv.url}/stream?channels=a`);
    await stream.next((e) => e.type === 'tandem:hello');
    const first = await hub.publish('a', 'x', 1);
    inject({ ...first }); // duplicate: dropped
    inject({ epoch: first.epoch, offset: 3, data: 3 }); // hole at 2: resync gap
    inject({ epoch: 'newepoch', offset: 1, data: 'n1' }); // log lost: resync epoch
    inject({ epoch: 'newepoch', offset: 2, data: 'n2' });
    await stream.next((e) => e.type === 'x' && JSON.parse(e.data).data === 'n2');
    const seen = stream.events
      .filter((e) => e.type !== 'tandem:hello' && e.type !== 'tandem:ping')
      .map((e) =>
        e.type === 'tandem:resync' ? `resync:${JSON.parse(e.data).reason}` : JSON.parse(e.data).data,
      );
    expect(seen).toEqual([1, 'resync:gap', 3, 'resync:epoch', 'n1', 'n2']);
    // The cursor follows the new epoch, so a reconnect resumes in it.
    expect(stream.lastEventId).toContain('.newepoch.2');
    stream.close();
    await inner.close();
  });
});
