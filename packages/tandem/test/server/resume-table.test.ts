import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamDecoder } from '../../src/client/decode';
import { encodeCursor, type HelloPayload, type PollResponse, type ResyncPayload } from '../../src/protocol';
import { createHub, type MemoryBroker, memoryBroker } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { getJson, openRaw } from './sse-reader';

/**
 * The resume rules of docs/server.md ("Resume"), as a table. The channel keeps 5 events and holds offsets 1–10
 * (so 6–10 are retained) when each case connects.
 */
interface Case {
  name: string;
  cursor: (epoch: string) => string | undefined;
  /** Offsets replayed before live events. */
  replay: number[];
  recovered: boolean;
  resync: ResyncPayload['reason'] | null;
}

const CHANNEL = 'tenant:acme/orders';
const cases: Case[] = [
  {
    name: 'current',
    cursor: (epoch) => encodeCursor({ [CHANNEL]: { epoch, offset: 10 } }),
    replay: [],
    recovered: true,
    resync: null,
  },
  {
    name: 'behind within retention',
    cursor: (epoch) => encodeCursor({ [CHANNEL]: { epoch, offset: 7 } }),
    replay: [8, 9, 10],
    recovered: true,
    resync: null,
  },
  {
    name: 'behind, at the oldest boundary',
    cursor: (epoch) => encodeCursor({ [CHANNEL]: { epoch, offset: 5 } }),
    replay: [6, 7, 8, 9, 10],
    recovered: true,
    resync: null,
  },
  {
    name: 'behind past retention',
    cursor: (epoch) => encodeCursor({ [CHANNEL]: { epoch, offset: 4 } }),
    replay: [],
    recovered: false,
    resync: 'retention',
  },
  {
    name: 'other epoch',
    cursor: () => encodeCursor({ [CHANNEL]: { epoch: 'otherepoch', offset: 10 } }),
    replay: [],
    recovered: false,
    resync: 'epoch',
  },
  { name: 'malformed', cursor: () => 't1~not a cursor', replay: [], recovered: false, resync: 'cursor' },
  { name: 'absent', cursor: () => undefined, replay: [], recovered: false, resync: null },
];

let server: HubServer;
let broker: MemoryBroker;
let epoch: string;

beforeEach(async () => {
  broker = memoryBroker({ maxEventsPerChannel: 5 });
  server = await startHubServer(createHub({ broker }));
  for (let i = 1; i <= 10; i++) epoch = (await server.hub.publish(CHANNEL, 'order', i)).epoch;
});
afterEach(async () => {
  await server.close();
  await broker.close();
});

// Both wires: the classic frames, and the compact ones Tandem's client asks for (read here by
// the client's own decoder).
describe.each([
  { wire: 'classic', query: '' },
  { wire: 'compact', query: '&wire=compact' },
])('resume over /stream ($wire)', ({ wire, query }) => {
  it.each(cases)('cursor $name', async ({ cursor, replay, recovered, resync }) => {
    const value = cursor(epoch);
    const stream = await openRaw(
      `${server.url}/stream?channels=${CHANNEL}${query}`,
      value === undefined ? {} : { 'last-event-id': value },
    );
    const hello = JSON.parse((await stream.next((e) => e.type === 'tandem:hello')).data) as HelloPayload;
    expect(hello.channels[CHANNEL]).toEqual({ epoch, head: 10, recovered, ...(query ? { id: '0' } : {}) });
    expect(hello.wire).toBe(query ? 'compact' : undefined);
    /** The app events so far, as the client reads them. */
    const offsets = () => {
      const decoder = new StreamDecoder();
      return stream.events.flatMap((e) => {
        const message = decoder.decode(e);
        return message.kind === 'event' && message.event.epoch === epoch ? [message.event.offset] : [];
      });
    };

    // A live event marks the end of the replay: everything before it is the replay.
    const live = await server.hub.publish(CHANNEL, 'order', 'live');
    await stream.next(() => offsets().includes(live.offset));
    expect(offsets()).toEqual([...replay, live.offset]);
    expect(stream.events.some((e) => e.type === 'tandem:epoch')).toBe(false);
    // No event after the prelude moves the id: the compact frames carry none.
    if (wire === 'compact') expect(new Set(stream.events.map((e) => e.lastEventId)).size).toBe(1);

    const resyncs = stream.events.filter((e) => e.type === 'tandem:resync').map((e) => JSON.parse(e.data));
    expect(resyncs).toEqual(resync ? [{ channels: [CHANNEL], reason: resync }] : []);
    // Control frames come first: hello, then resync, then events.
    expect(stream.events[0]!.type).toBe('tandem:hello');
    if (resync) expect(stream.events[1]!.type).toBe('tandem:resync');
    stream.close();
  });
});

describe('resume over /poll', () => {
  it.each(cases)('cursor $name', async ({ cursor, replay, recovered, resync }) => {
    const value = cursor(epoch);
    const query = value === undefined ? '' : `&cursor=${encodeURIComponent(value)}`;
    const { status, body } = await getJson(`${server.url}/poll?channels=${CHANNEL}${query}`);
    expect(status).toBe(200);
    const poll = body as PollResponse;
    const head = 10;
    expect(poll.channels[CHANNEL]).toEqual({ epoch, head, recovered });
    expect(poll.events.map((e) => e.offset)).toEqual(replay);
    expect(poll.resync).toEqual(resync ? { channels: [CHANNEL], reason: resync } : null);
    // The returned cursor continues exactly where this answer ends.
    const end = replay.length > 0 ? poll.events[poll.events.length - 1]!.offset : head;
    expect(poll.cursor).toBe(encodeCursor({ [CHANNEL]: { epoch, offset: end } }));
  });
});
