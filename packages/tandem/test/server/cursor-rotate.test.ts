import { afterEach, describe, expect, it } from 'vitest';
import { decodeCursor, type HelloPayload, type TandemError } from '../../src/protocol';
import { createHub, type HubOptions, type MemoryBrokerOptions, memoryBroker } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { openRaw } from './sse-reader';

let server: HubServer | null = null;
let closeBroker: (() => Promise<void>) | null = null;

afterEach(async () => {
  await server?.close();
  await closeBroker?.();
  server = null;
  closeBroker = null;
});

async function start(options: HubOptions = {}, brokerOptions: MemoryBrokerOptions = {}) {
  const broker = memoryBroker(brokerOptions);
  closeBroker = () => broker.close();
  server = await startHubServer(createHub({ broker, ...options }));
  return server;
}

const stream = (s: HubServer, channels: string, cursor: string) =>
  openRaw(`${s.url}/stream?channels=${channels}&cursor=${cursor}`);

describe('hub.cursor: where a server-rendered page starts', () => {
  it('is the heads of the channels, so the stream brings exactly what came after', async () => {
    const s = await start();
    for (let i = 1; i <= 3; i++) await s.hub.publish('c:a', 'tick', { i });
    // The page's data would be read now, after the cursor; then more is published.
    const cursor = await s.hub.cursor(['c:a', 'c:b']);
    const positions = decodeCursor(cursor, ['c:a', 'c:b']).positions;
    expect(positions.get('c:a')?.offset).toBe(3);
    // A channel without a log gets one: the start of its first epoch.
    expect(positions.get('c:b')?.offset).toBe(0);
    await s.hub.publish('c:a', 'tick', { i: 4 });
    await s.hub.publish('c:b', 'tick', { i: 1 });
    const raw = await stream(s, 'c:a,c:b', cursor);
    await raw.next((e) => e.type === 'tick' && raw.appEvents().length === 2);
    expect(raw.appEvents().map((e) => [e.channel, e.offset])).toEqual([
      ['c:a', 4],
      ['c:b', 1],
    ]);
    const hello = JSON.parse(raw.events[0]!.data) as HelloPayload;
    expect(hello.channels['c:a']!.recovered).toBe(true);
    expect(hello.channels['c:b']!.recovered).toBe(true);
    expect(raw.events.some((e) => e.type === 'tandem:resync')).toBe(false);
    raw.close();
  });

  it('gives resync, never a silent gap, once the cursor has expired', async () => {
    const s = await start({}, { maxEventsPerChannel: 2 });
    const cursor = await s.hub.cursor(['c:a']);
    for (let i = 1; i <= 5; i++) await s.hub.publish('c:a', 'tick', { i });
    const raw = await stream(s, 'c:a', cursor);
    const resync = await raw.next((e) => e.type === 'tandem:resync');
    expect(JSON.parse(resync.data)).toEqual({ channels: ['c:a'], reason: 'retention' });
    raw.close();
  });

  it('refuses bad input with a TandemError and keeps serving', async () => {
    const s = await start();
    const code = (promise: Promise<unknown>) =>
      promise.then(
        () => 'resolved',
        (error: TandemError) => error.code,
      );
    expect(await code(s.hub.cursor([]))).toBe('bad_request');
    expect(await code(s.hub.cursor(['bad name']))).toBe('invalid_channel');
    expect(await code(s.hub.cursor(Array.from({ length: 65 }, (_, i) => `c:${i}`)))).toBe('bad_request');
    expect(decodeCursor(await s.hub.cursor(['c:a', 'c:a']), ['c:a']).positions.size).toBe(1);
    await s.hub.close();
    expect(await code(s.hub.cursor(['c:a']))).toBe('shutting_down');
  });
});

describe('maxStreamDurationMs: streams end on the hub\u2019s terms', () => {
  it('ends a stream with bye rotate (come back at once) after its duration, not before', async () => {
    const s = await start({ maxStreamDurationMs: 600, heartbeatMs: 100 });
    const opened = Date.now();
    const raw = await openRaw(`${s.url}/stream?channels=c:a`);
    const bye = await raw.next((e) => e.type === 'tandem:bye', 5_000);
    const lived = Date.now() - opened;
    expect(JSON.parse(bye.data)).toEqual({ reason: 'rotate', reconnectMs: 0 });
    await raw.ended;
    // 80–100 % of the duration, checked on the heartbeat tick.
    expect(lived).toBeGreaterThanOrEqual(480);
    expect(s.hub.stats().connections).toBe(0);
  });

  it('announces the token expiry in the hello, so the client can move before it', async () => {
    const expiresAt = Date.now() + 30_000;
    const s = await start({ authorize: () => ({ subject: 'u', channels: ['c:*'], expiresAt }) });
    const raw = await openRaw(`${s.url}/stream?channels=c:a`);
    const hello = JSON.parse((await raw.next((e) => e.type === 'tandem:hello')).data) as HelloPayload;
    expect(hello.expiresInMs).toBeGreaterThan(25_000);
    expect(hello.expiresInMs).toBeLessThanOrEqual(30_000);
    raw.close();
  });
});
