import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../helpers/wait';
import { type Rig, recordedClient, startRig, transportNamed } from './harness';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe.each(['fetch', 'eventsource'] as const)('a client away longer than retention (%s)', (transport) => {
  it('gets onResync exactly once for the affected channels, then live delivery continues', async () => {
    rig = await startRig({}, { retentionMs: 1_000, sweepMs: 200 });
    const rec = recordedClient({
      url: rig.url,
      channels: ['ret:a', 'ret:b'],
      transport: transportNamed(transport),
      eventTypes: ['tick'],
    });
    expect(await until(() => rec.client.getState().status === 'open', 5_000)).toBe(true);
    await rig.server.hub.publish('ret:a', 'tick', { i: 0 });
    await rig.server.hub.publish('ret:b', 'tick', { i: 1 });
    expect(await until(() => rec.count() === 2, 5_000)).toBe(true);

    // Away: every connection cut and new ones refused, while ret:a moves on and ages out.
    rig.proxy.refuse();
    rig.proxy.cut();
    await rig.server.hub.publish('ret:a', 'tick', { i: 2 });
    await rig.server.hub.publish('ret:a', 'tick', { i: 3 });
    // Back once all of ret:a's events (offsets 1–3) have aged out.
    await expect
      .poll(async () => (await rig!.broker.info('ret:a')).oldest, { timeout: 10_000, interval: 100 })
      .toBe(4);
    rig.proxy.pass();

    expect(await until(() => rec.resyncs.length > 0 && rec.client.getState().status === 'open', 10_000)).toBe(
      true,
    );
    // Both paths come back with the stale cursor; the other report, a poll and a reconnect add nothing.
    await rec.client.pollNow();
    rec.client.reconnect();
    expect(await until(() => rec.client.getState().status === 'open', 5_000)).toBe(true);
    await rec.client.pollNow();
    // Events published now arrive after anything the poll and the new stream had to report.
    await rig.server.hub.publish('ret:a', 'tick', { i: 4 });
    await rig.server.hub.publish('ret:b', 'tick', { i: 5 });
    expect(await until(() => rec.count() === 4, 5_000)).toBe(true);
    expect(rec.resyncs.map(({ channels, reason }) => ({ channels, reason }))).toEqual([
      { channels: ['ret:a'], reason: 'retention' },
    ]);
    expect(rec.events.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 4, 5]);
    expect(rec.violations).toEqual([]);
    rec.client.close();
  }, 30_000);
});
