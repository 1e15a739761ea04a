import { describe, expect, it, vi } from 'vitest';
import { createParser, type ParsedEvent, type PollResponse } from '../../src/protocol';
import { createHub } from '../../src/server';

/** Reads a Response body through the protocol parser until `until` matches. */
async function readEvents(
  response: Response,
  until: (events: ParsedEvent[]) => boolean,
): Promise<{ events: ParsedEvent[]; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const events: ParsedEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  const reader = response.body!.getReader();
  while (!until(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    parser.feed(value);
  }
  return { events, reader };
}

/** Waits until `check` holds; fails the test if it never does. */
const settle = (check: () => boolean) =>
  vi.waitFor(() => expect(check()).toBe(true), { timeout: 10_000, interval: 5 });

describe('hub.fetch (Fetch API: Next.js App Router, Hono, Bun, Deno)', () => {
  it('works unbound, as `export const GET = hub.fetch`, streaming events with the SSE headers', async () => {
    const hub = createHub();
    const GET = hub.fetch;
    const response = await GET(new Request('http://localhost/api/live/stream?channels=a'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    setTimeout(() => void hub.publish('a', 'x', { hello: 'fetch' }), 10);
    const { events, reader } = await readEvents(response, (e) => e.some((x) => x.type === 'x'));
    expect(events[0]!.type).toBe('tandem:hello');
    expect(JSON.parse(events.find((e) => e.type === 'x')!.data).data).toEqual({ hello: 'fetch' });
    await reader.cancel();
    await settle(() => hub.stats().connections === 0);
    expect(hub.stats()).toMatchObject({ connections: 0, channels: 0, responses: 0 });
    await hub.close();
  });

  it('cleans up on the request abort signal as well as on cancel', async () => {
    const hub = createHub();
    const controller = new AbortController();
    const response = await hub.fetch(
      new Request('http://localhost/stream?channels=a,b', { signal: controller.signal }),
    );
    await readEvents(response, (e) => e.length > 0);
    expect(hub.stats().connections).toBe(1);
    controller.abort();
    await settle(() => hub.stats().connections === 0);
    expect(hub.stats()).toMatchObject({ connections: 0, channels: 0, subscribers: 0, responses: 0 });
    await hub.close();
  });

  it('answers polls and errors as JSON', async () => {
    const hub = createHub();
    await hub.publish('a', 'x', 1);
    const poll = await hub.fetch(new Request('http://localhost/poll?channels=a'));
    expect(poll.status).toBe(200);
    expect(((await poll.json()) as PollResponse).channels.a!.head).toBe(1);
    const bad = await hub.fetch(new Request('http://localhost/poll?channels=no%20spaces'));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_channel' } });
    await hub.close();
  });

  it('cuts a stream nobody reads at maxBufferedBytes', async () => {
    const hub = createHub({ maxBufferedBytes: 64 * 1024 });
    const response = await hub.fetch(new Request('http://localhost/stream?channels=a'));
    expect(hub.stats().connections).toBe(1);
    const blob = 'x'.repeat(4096);
    for (let i = 0; i < 40 && hub.stats().connections > 0; i++) {
      await hub.publish('a', 'x', blob);
      await new Promise((r) => setImmediate(r));
    }
    expect(hub.stats().connections).toBe(0);
    // Its unsent bytes are dropped and the body ends quietly: a runtime logs an errored body.
    const reader = response.body!.getReader();
    let bytes = 0;
    for (let read = await reader.read(); !read.done; read = await reader.read()) bytes += read.value.length;
    expect(bytes).toBeLessThan(64 * 1024);
    await hub.close();
  });

  it('says bye and ends the body on close()', async () => {
    const hub = createHub();
    const response = await hub.fetch(new Request('http://localhost/stream?channels=a'));
    const reading = readEvents(response, (e) => e.some((x) => x.type === 'tandem:bye'));
    await hub.close();
    const { events } = await reading;
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ reason: 'shutdown' });
    const refused = await hub.fetch(new Request('http://localhost/stream?channels=a'));
    expect(refused.status).toBe(503);
  });
});
