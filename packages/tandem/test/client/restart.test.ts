import { afterEach, describe, expect, it } from 'vitest';
import { createHub, memoryBroker } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { until } from '../helpers/wait';
import { type Rig, recordedClient, startRig, transportNamed } from './harness';

let rig: Rig | null = null;
let replacement: HubServer | null = null;
afterEach(async () => {
  await replacement?.close();
  await rig?.close();
  rig = null;
  replacement = null;
});

// fetch: the compact wire; fetch-classic and eventsource: the classic frames.
describe.each(['fetch', 'fetch-classic', 'eventsource'] as const)('over %s', (transport) => {
  it('a server restart that lost its log: onResync once with reason epoch, then live delivery continues', async () => {
    rig = await startRig();
    const rec = recordedClient({
      url: rig.url,
      channels: ['restart:a', 'restart:b'],
      transport: transportNamed(transport),
      eventTypes: ['tick'],
    });
    expect(await until(() => rec.client.getState().status === 'open', 5_000)).toBe(true);
    await rig.server.hub.publish('restart:a', 'tick', { i: 0 });
    await rig.server.hub.publish('restart:b', 'tick', { i: 1 });
    expect(await until(() => rec.count() === 2, 5_000)).toBe(true);

    // A new process with an empty memory broker takes over the address; the old one says bye.
    const broker = memoryBroker();
    replacement = await startHubServer(createHub({ broker }));
    rig.proxy.retarget(Number(new URL(replacement.url).port));
    await rig.server.close();

    expect(await until(() => rec.resyncs.length > 0 && rec.client.getState().status === 'open', 10_000)).toBe(
      true,
    );
    await rec.client.pollNow();
    // Events published now arrive after anything the poll and the stream had to report.
    await replacement.hub.publish('restart:a', 'tick', { i: 2 });
    await replacement.hub.publish('restart:b', 'tick', { i: 3 });
    expect(await until(() => rec.count() === 4, 5_000)).toBe(true);
    expect(rec.resyncs).toHaveLength(1);
    expect(rec.resyncs[0]!.reason).toBe('epoch');
    expect([...rec.resyncs[0]!.channels].sort()).toEqual(['restart:a', 'restart:b']);
    expect(rec.events.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3]);
    // The stream, not the poller, brought them: each wire told the new log's epoch.
    expect(rec.events.map((e) => e.source)).toEqual(['stream', 'stream', 'stream', 'stream']);
    expect(rec.violations).toEqual([]);
    rec.client.close();
    await broker.close();
  }, 30_000);
});

describe('EventSource and event types it does not listen to', () => {
  it('the poller fills the holes they leave: every event still arrives once, in order', async () => {
    rig = await startRig();
    const rec = recordedClient({
      url: rig.url,
      channels: ['types:a'],
      transport: transportNamed('eventsource'),
      eventTypes: ['heard'],
    });
    expect(await until(() => rec.client.getState().status === 'open', 5_000)).toBe(true);
    for (let i = 0; i < 20; i++)
      await rig.server.hub.publish('types:a', i % 3 === 0 ? 'unheard' : 'heard', { i });
    expect(await until(() => rec.count() === 20, 5_000)).toBe(true);
    expect(rec.events.map((e) => (e.data as { i: number }).i)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect(rec.events.filter((e) => e.source === 'poll').length).toBeGreaterThan(0);
    expect(rec.violations).toEqual([]);
    rec.client.close();
  }, 15_000);
});
