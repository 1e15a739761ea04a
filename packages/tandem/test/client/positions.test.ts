import { describe, expect, it } from 'vitest';
import { createLiveClient } from '../../src/client';
import type { PositionStorage } from '../../src/client/environment';
import { decodeCursor, encodeCursor } from '../../src/protocol';
import { fakeEnv, flush } from '../helpers/fake-env';
import { fakeTransport } from './fake-transport';

function memoryStorage(): PositionStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

function open(storage: PositionStorage, channels = ['a', 'b'], cursor?: string) {
  const env = fakeEnv();
  const { transport, streams } = fakeTransport(env.now);
  const client = createLiveClient({
    url: 'http://127.0.0.1:1/live',
    channels,
    transport,
    storage,
    cursor,
    poll: { enabled: false },
    ...env,
  });
  client.start();
  return { client, streams };
}

describe('positions', () => {
  it('persist in storage, so a reload resumes from where the page was', async () => {
    const storage = memoryStorage();
    const first = open(storage);
    await flush();
    first.streams[0]!.hello({
      a: { epoch: 'e1', head: 4, recovered: false },
      b: { epoch: 'e2', head: 0, recovered: false },
    });
    first.streams[0]!.event('a', 't', 5);
    first.streams[0]!.event('b', 't', 1, 'e2');
    await flush();
    first.client.close();

    const second = open(storage);
    await flush();
    const resumed = decodeCursor(second.streams[0]!.request.cursor, ['a', 'b']).positions;
    expect(Object.fromEntries(resumed)).toEqual({
      a: { epoch: 'e1', offset: 5 },
      b: { epoch: 'e2', offset: 1 },
    });
    second.client.close();
  });

  it('are kept per url and channel set', async () => {
    const storage = memoryStorage();
    const first = open(storage, ['a']);
    await flush();
    first.streams[0]!.hello({ a: { epoch: 'e1', head: 4, recovered: false } });
    await flush();
    first.client.close();
    const other = open(storage, ['a', 'c']);
    await flush();
    expect(other.streams[0]!.request.cursor).toBeNull();
    other.client.close();
  });

  it('start from a cursor handed over with the page, before storage', async () => {
    const storage = memoryStorage();
    storage.setItem('ignored', '{}');
    const cursor = encodeCursor([['a', { epoch: 'e9', offset: 12 }]]);
    const client = open(storage, ['a'], cursor);
    await flush();
    expect(client.streams[0]!.request.cursor).toBe(cursor);
    expect(client.client.getCursor()).toBe(cursor);
    client.client.close();
  });

  it('survive unreadable storage content', async () => {
    const storage = memoryStorage();
    const key = 'tandem:positions:http://127.0.0.1:1/live|a';
    storage.setItem(key, '{not json');
    const client = open(storage, ['a']);
    await flush();
    expect(client.streams[0]!.request.cursor).toBeNull();
    client.client.close();
  });
});
