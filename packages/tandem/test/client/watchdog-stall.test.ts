import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../helpers/wait';
import { type Rig, recordedClient, startRig, transportNamed } from './harness';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe.each(['fetch', 'eventsource'] as const)('a stall without FIN (%s)', (transport) => {
  it('is detected by the watchdog, no sooner than 3 heartbeats after the last byte, then the client recovers', async () => {
    rig = await startRig({ heartbeatMs: 2_000 });
    // Polls would also cross the proxy and blur "the last byte"; this test is about the stream.
    const rec = recordedClient({
      url: rig.url,
      channels: ['stall:a'],
      transport: transportNamed(transport),
      eventTypes: ['tick'],
      poll: { enabled: false },
    });
    expect(await until(() => rec.client.getState().status === 'open', 5_000)).toBe(true);
    await rig.server.hub.publish('stall:a', 'tick', { i: 0 });
    expect(await until(() => rec.count() === 1, 5_000)).toBe(true);

    let detectedAt = 0;
    let lastByteAt = 0;
    rec.client.subscribeState((state) => {
      if (!detectedAt && state.lastError?.code === 'timeout') {
        detectedAt = Date.now();
        // Read now: the reconnect that follows brings new bytes through the proxy.
        lastByteAt = rig!.proxy.lastDownstreamByteAt;
      }
    });
    rig.proxy.stall();
    await rig.server.hub.publish('stall:a', 'tick', { i: 1 });
    expect(await until(() => detectedAt > 0, 10_000)).toBe(true);
    const silence = detectedAt - lastByteAt;
    console.info(`${transport}: stall detected ${silence} ms after the last byte`);
    // Never early (timers do not fire early); how late depends on the machine, and the stall never
    // ends by itself, so only the watchdog can have ended it. The exact deadline is checked with
    // an injected clock in watchdog.test.ts.
    expect(silence).toBeGreaterThanOrEqual(6_000);

    // The stalled sockets stay stalled; a new connection gets through and resumes exactly.
    expect(await until(() => rec.count() === 2, 5_000)).toBe(true);
    expect(rec.client.getState().status).toBe('open');
    expect(rec.violations).toEqual([]);
    expect(rec.resyncs).toEqual([]);
    rec.client.close();
    rig.proxy.pass();
  }, 30_000);
});
