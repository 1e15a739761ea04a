import { afterEach, describe, expect, it } from 'vitest';
import type { HelloPayload, PingPayload } from '../../src/protocol';
import { createHub } from '../../src/server';
import { headsEveryBeats } from '../../src/server/heartbeat';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { lossyBroker } from '../helpers/lossy-broker';
import { openRaw } from './sse-reader';

let server: HubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const pingOf = (data: string) => JSON.parse(data) as PingPayload;

describe('heads in the heartbeat', () => {
  it('every ping tells the heads of the stream’s channels: delivered, or read at a stream’s start', async () => {
    server = await startHubServer(createHub({ heartbeatMs: 50 }));
    const stream = await openRaw(`${server.url}/stream?channels=a,b`);
    const hello = JSON.parse((await stream.next((e) => e.type === 'tandem:hello')).data) as HelloPayload;
    const epochB = hello.channels.b!.epoch;
    // Nothing published yet: the heads read from the log at the start.
    const first = pingOf((await stream.next((e) => e.type === 'tandem:ping')).data);
    expect(first.heads).toEqual({ a: [hello.channels.a!.epoch, 0], b: [epochB, 0] });

    const one = await server.hub.publish('a', 'x', 1);
    const two = await server.hub.publish('a', 'x', 2);
    const from = stream.count;
    await stream.next((e) => e.type === 'x' && JSON.parse(e.data).data === 2);
    const ping = await stream.next((e) => e.type === 'tandem:ping', 5000, from);
    expect(pingOf(ping.data).heads).toEqual({ a: [one.epoch, two.offset], b: [epochB, 0] });
    stream.close();
  });

  it('a stream that is never idle still hears the heads, every few beats', async () => {
    const heartbeatMs = 200;
    server = await startHubServer(createHub({ heartbeatMs }));
    const stream = await openRaw(`${server.url}/stream?channels=a`);
    await stream.next((e) => e.type === 'tandem:hello');
    // Busy at every beat: an event every 10 ms, far more often than the 200 ms heartbeat.
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        await server!.hub.publish('a', 'x', 0);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      const from = stream.count;
      const ping = await stream.next((e) => e.type === 'tandem:ping', 20 * heartbeatMs, from);
      const [, offset] = pingOf(ping.data).heads!.a!;
      // It came between events: events before it, and the head it tells is one of them.
      const before = stream.events.slice(0, stream.events.indexOf(ping)).filter((e) => e.type === 'x');
      expect(before.length).toBeGreaterThan(0);
      expect(offset).toBeGreaterThanOrEqual(JSON.parse(before.at(-1)!.data).offset);
    } finally {
      publishing = false;
      await publisher;
    }
    stream.close();
  });

  it('beats between heads of a busy stream: five, and never more than 10 s', () => {
    expect(headsEveryBeats(2000)).toBe(5);
    expect(headsEveryBeats(50)).toBe(5);
    expect(headsEveryBeats(3000)).toBe(3);
    expect(headsEveryBeats(30_000)).toBe(1);
  });

  it('a head read at a later stream’s start reaches the streams that missed its event', async () => {
    // The live feed of this hub loses offset 2: only the log has it.
    server = await startHubServer(createHub({ heartbeatMs: 50, broker: lossyBroker((e) => e.offset === 2) }));
    const early = await openRaw(`${server.url}/stream?channels=a`);
    await early.next((e) => e.type === 'tandem:hello');
    await server.hub.publish('a', 'x', 1);
    const two = await server.hub.publish('a', 'x', 2);
    await early.next((e) => e.type === 'x');
    const seen = early.count;
    await early.next((e) => e.type === 'tandem:ping' && pingOf(e.data).heads?.a?.[1] === 1, 5000, seen);

    const late = await openRaw(`${server.url}/stream?channels=a`);
    const hello = JSON.parse((await late.next((e) => e.type === 'tandem:hello')).data) as HelloPayload;
    expect(hello.channels.a!.head).toBe(2);
    // The early stream never got offset 2, but its pings now say the channel is there.
    const ping = await early.next(
      (e) => e.type === 'tandem:ping' && pingOf(e.data).heads?.a?.[1] === 2,
      5000,
      seen,
    );
    expect(pingOf(ping.data).heads!.a).toEqual([two.epoch, 2]);
    expect(early.appEvents().map((e) => e.offset)).toEqual([1]);
    early.close();
    late.close();
  });
});
