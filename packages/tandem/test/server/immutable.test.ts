import { afterEach, describe, expect, it } from 'vitest';
import type { PollResponse } from '../../src/protocol';
import { createHub, memoryBroker } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { openRaw } from './sse-reader';

let served: HubServer | null = null;
afterEach(async () => {
  await served?.close();
  served = null;
});

describe('published events are immutable', () => {
  it('keeps what was published, whatever the caller does with its object afterwards', async () => {
    served = await startHubServer(createHub({ broker: memoryBroker() }));
    const start = (await (await fetch(`${served.url}/poll?channels=doc`)).json()) as PollResponse;

    // No stream is subscribed: event 1 is only in the log when event 2 is published.
    const data = { n: 1, tags: ['a'] };
    const first = await served.hub.publish('doc', 'edit', data);
    data.n = 2;
    data.tags.push('b');
    const second = await served.hub.publish('doc', 'edit', data);
    data.n = 3;
    expect(first.data).toEqual({ n: 1, tags: ['a'] });
    expect(second.data).toEqual({ n: 2, tags: ['a', 'b'] });
    // Nor can the event publish resolved with change it.
    expect(() => {
      (first.data as { n: number }).n = 9;
    }).toThrow(TypeError);

    const poll = (await (
      await fetch(`${served.url}/poll?channels=doc&cursor=${encodeURIComponent(start.cursor)}`)
    ).json()) as PollResponse;
    expect(poll.events.map((e) => e.data)).toEqual([
      { n: 1, tags: ['a'] },
      { n: 2, tags: ['a', 'b'] },
    ]);

    // The replay of the same events on a stream says the same as the poll.
    const stream = await openRaw(`${served.url}/stream?channels=doc`, { 'last-event-id': start.cursor });
    await stream.next(() => stream.appEvents().length === 2);
    expect(stream.appEvents().map((e) => e.data)).toEqual([
      { n: 1, tags: ['a'] },
      { n: 2, tags: ['a', 'b'] },
    ]);
    stream.close();
  });

  it('a live delivery carries the data of its publish, not of a later mutation', async () => {
    served = await startHubServer(createHub({ broker: memoryBroker() }));
    const stream = await openRaw(`${served.url}/stream?channels=doc`);
    await stream.next((e) => e.type === 'tandem:hello');
    const data = { n: 1 };
    // Both publishes land in one tick: the frames are written after both returned.
    const published = [served.hub.publish('doc', 'edit', data)];
    data.n = 2;
    published.push(served.hub.publish('doc', 'edit', data));
    data.n = 3;
    await Promise.all(published);
    await stream.next(() => stream.appEvents().length === 2);
    expect(stream.appEvents().map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    stream.close();
  });
});
