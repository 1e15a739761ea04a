/**
 * A stream that saw a channel empty, then receives the first event of a log live: whether that
 * log is the first since is the broker's to say (`Broker.continues`), on the live path as on a
 * resume. A Redis that lost its data while the stream waited (and the first log's notifications
 * with it) makes a log that is not; the stream must say `resync`, not deliver offset 1 as if
 * nothing had been missed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Broker, createHub, memoryBroker } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { openRaw, type RawStream } from './sse-reader';

let served: HubServer | null = null;
const streams: RawStream[] = [];
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  await served?.close();
  served = null;
});

/** The memory broker, but answering `continues` as told: as a broker that lost logs would. */
function brokerJudging(first: boolean): Broker {
  const broker = memoryBroker();
  return Object.assign(Object.create(broker) as Broker, {
    continues: () => first,
    append: broker.append.bind(broker),
    info: broker.info.bind(broker),
    read: broker.read.bind(broker),
    subscribe: broker.subscribe.bind(broker),
    close: broker.close.bind(broker),
  });
}

describe.each(['classic', 'compact'])('a live stream on a channel seen empty (%s frames)', (wire) => {
  const query = wire === 'compact' ? '&wire=compact' : '';

  it('delivers the first log from offset 1 when the broker says it is the first since', async () => {
    served = await startHubServer(createHub({ broker: brokerJudging(true) }));
    const stream = await openRaw(`${served.url}/stream?channels=c1,c2${query}`);
    streams.push(stream);
    await stream.next((event) => event.type === 'tandem:hello');
    await served.hub.publish('c1', 'tick', { n: 1 });
    await served.hub.publish('c1', 'tick', { n: 2 });
    await stream.next(() => stream.appCount === 2);
    expect(stream.events.map((event) => event.type)).not.toContain('tandem:resync');
  });

  it('sends resync (epoch) before a log the broker says is not the first since', async () => {
    served = await startHubServer(createHub({ broker: brokerJudging(false) }));
    // One channel (the shared fast path) and two (each stream's own frames).
    for (const channels of ['c1', 'c1,c2']) {
      const stream = await openRaw(`${served.url}/stream?channels=${channels}${query}`);
      streams.push(stream);
      await stream.next((event) => event.type === 'tandem:hello');
    }
    await served.hub.publish('c1', 'tick', { n: 1 });
    for (const stream of streams) {
      const resync = await stream.next((event) => event.type === 'tandem:resync');
      expect(JSON.parse(resync.data)).toMatchObject({ channels: ['c1'], reason: 'epoch' });
      await stream.next(() => stream.appCount === 1);
      const types = stream.events.map((event) => event.type).filter((type) => type !== 'tandem:epoch');
      expect(types.indexOf('tandem:resync')).toBeLessThan(types.indexOf('tick'));
    }
  });
});
