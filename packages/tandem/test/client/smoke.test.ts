import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../helpers/wait';
import { type Rig, recordedClient, startRig, transportNamed } from './harness';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe.each(['fetch', 'eventsource'] as const)('live client over %s', (transport) => {
  it('receives live events, survives a cut and resumes exactly', async () => {
    rig = await startRig();
    const rec = recordedClient({
      url: rig.url,
      channels: ['s:a', 's:b'],
      transport: transportNamed(transport),
      eventTypes: ['tick'],
    });
    expect(await until(() => rec.client.getState().status === 'open', 5_000)).toBe(true);
    for (let i = 0; i < 10; i++) await rig.server.hub.publish(i % 2 ? 's:a' : 's:b', 'tick', { i });
    expect(await until(() => rec.count() === 10, 5_000)).toBe(true);
    rig.proxy.cut();
    for (let i = 10; i < 20; i++) await rig.server.hub.publish(i % 2 ? 's:a' : 's:b', 'tick', { i });
    expect(await until(() => rec.count() === 20, 5_000)).toBe(true);
    expect(rec.violations).toEqual([]);
    expect(rec.resyncs).toEqual([]);
    expect(rec.events.map((e) => (e.data as { i: number }).i).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    rec.client.close();
  });
});
