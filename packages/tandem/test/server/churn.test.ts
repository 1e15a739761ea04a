import { afterEach, describe, expect, it } from 'vitest';
import { createHub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { sleep } from '../helpers/wait';
import { openRaw } from './sse-reader';

let server: HubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHANNELS = ['tenant:a/orders', 'tenant:a/stock', 'tenant:b/orders'];
const EVENTS = 10_000;
const CLIENTS = 50;

describe('churn', () => {
  it('10 000 events while 50 clients connect and disconnect at random: contiguous offsets, no duplicates', async () => {
    server = await startHubServer(createHub());
    const { hub, url } = server;
    const rand = random(42);
    let publishing = true;

    async function client(index: number) {
      // Each client has fixed channels (one or two), as an app's page would.
      const channels =
        index % 4 === 0 ? [CHANNELS[0]!, CHANNELS[index % 3 === 0 ? 1 : 2]!] : [CHANNELS[index % 3]!];
      const seen = new Map<string, number[]>(channels.map((c) => [c, []]));
      let cursor = '';
      let connections = 0;
      let resyncs = 0;
      const consume = async (finalHeads?: Map<string, number>) => {
        const stream = await openRaw(
          `${url}/stream?channels=${channels.join(',')}`,
          cursor ? { 'last-event-id': cursor } : {},
        );
        connections++;
        if (finalHeads) {
          const last = new Map(channels.map((c) => [c, seen.get(c)!.at(-1) ?? 0]));
          await stream.next((e) => {
            if (!e.type.startsWith('tandem:')) {
              const { channel, offset } = JSON.parse(e.data) as { channel: string; offset: number };
              last.set(channel, offset);
            }
            return channels.every((c) => last.get(c)! >= finalHeads.get(c)!);
          }, 15_000);
        } else {
          await sleep(10 + rand() * 140);
        }
        stream.close();
        await stream.ended;
        for (const event of stream.appEvents()) seen.get(event.channel)!.push(event.offset);
        resyncs += stream.events.filter((e) => e.type === 'tandem:resync').length;
        if (stream.lastEventId) cursor = stream.lastEventId;
      };
      while (publishing) {
        await consume();
        await sleep(rand() * 40);
      }
      return { channels, seen, consume, connections: () => connections, resyncs: () => resyncs };
    }

    const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));
    // Each channel's head: the offset of its last published event.
    const heads = new Map<string, number>();
    for (let i = 0; i < EVENTS; i++) {
      const event = await hub.publish(CHANNELS[Math.floor(rand() * CHANNELS.length)]!, 'tick', { i });
      heads.set(event.channel, event.offset);
      if (i % 25 === 0) await sleep(1);
    }
    publishing = false;
    const results = await Promise.all(clients);
    expect([...heads.values()].reduce((a, b) => a + b, 0)).toBe(EVENTS);
    await Promise.all(results.map((r) => r.consume(heads)));

    let totalConnections = 0;
    for (const result of results) {
      totalConnections += result.connections();
      expect(result.resyncs()).toBe(0);
      for (const channel of result.channels) {
        const offsets = result.seen.get(channel)!;
        expect(offsets.length).toBeGreaterThan(0);
        const first = offsets[0]!;
        // Joined across reconnects: first, first + 1, … head, each exactly once.
        expect(offsets).toEqual(Array.from({ length: heads.get(channel)! - first + 1 }, (_, k) => first + k));
      }
    }
    console.log(`churn: ${EVENTS} events, ${CLIENTS} clients, ${totalConnections} connections in all`);
    // Many reconnects really happened.
    expect(totalConnections).toBeGreaterThan(CLIENTS * 5);
  }, 60_000);
});
