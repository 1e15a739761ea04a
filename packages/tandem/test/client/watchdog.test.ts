import { describe, expect, it } from 'vitest';
import { createWatchdog } from '../../src/client/watchdog';
import { fakeEnv } from '../helpers/fake-env';

function setup(options = {}) {
  const env = fakeEnv();
  const timeouts: number[] = [];
  const watchdog = createWatchdog(env, options, () => timeouts.push(env.now()));
  return { env, timeouts, watchdog };
}

describe('watchdog', () => {
  it('declares a silent connection dead 3 × the default heartbeat (6 s) after the last byte', async () => {
    const { env, timeouts, watchdog } = setup();
    const start = env.now();
    watchdog.start();
    await env.advance(5_999);
    expect(timeouts).toEqual([]);
    await env.advance(1);
    expect(timeouts).toEqual([start + 6_000]);
  });

  it('counts from the last activity, not from the start', async () => {
    const { env, timeouts, watchdog } = setup();
    watchdog.start();
    await env.advance(4_000);
    watchdog.touch();
    const last = env.now();
    await env.advance(5_000);
    expect(timeouts).toEqual([]);
    await env.advance(2_000);
    expect(timeouts).toEqual([last + 6_000]);
  });

  it('adopts the heartbeat the server announces', async () => {
    const { env, timeouts, watchdog } = setup();
    const start = env.now();
    watchdog.start();
    watchdog.setHeartbeat(500);
    expect(watchdog.timeoutMs).toBe(1_500);
    await env.advance(2_000);
    expect(timeouts).toEqual([start + 1_500]);
  });

  it('never fires after stop', async () => {
    const { env, timeouts, watchdog } = setup();
    watchdog.start();
    await env.advance(3_000);
    watchdog.stop();
    await env.advance(60_000);
    expect(timeouts).toEqual([]);
    expect(env.pending()).toBe(0);
  });

  it('does not take a timer that fired late (suspended loop) as a timeout by itself', async () => {
    const { env, timeouts, watchdog } = setup();
    watchdog.start();
    // The loop was suspended for 30 s; the check runs late. Bytes that waited are read next.
    await env.jump(30_000);
    expect(timeouts).toEqual([]);
    watchdog.touch();
    // The connection is alive: the next verdict is 6 s after that byte.
    await env.advance(5_999);
    expect(timeouts).toEqual([]);
    await env.advance(1);
    expect(timeouts).toHaveLength(1);
  });

  it('after a late timer with still no byte, times out after the grace', async () => {
    const { env, timeouts, watchdog } = setup();
    watchdog.start();
    await env.jump(30_000);
    expect(timeouts).toEqual([]);
    const graceStart = env.now();
    await env.advance(1_000);
    expect(timeouts).toEqual([graceStart + 1_000]);
  });

  it('grants the grace when the page was hidden during the wait, then decides', async () => {
    const { env, timeouts, watchdog } = setup();
    const start = env.now();
    watchdog.start();
    await env.advance(1_000);
    env.hidden.set(true);
    await env.advance(5_000);
    expect(timeouts).toEqual([]);
    env.hidden.set(false);
    await env.advance(1_000);
    expect(timeouts).toEqual([start + 7_000]);
  });

  it('with the page visible and the loop on time, fires between 6 and 6 s + tolerance', async () => {
    const { env, timeouts, watchdog } = setup({ lateToleranceMs: 1_000 });
    const start = env.now();
    watchdog.start();
    await env.jump(6_500); // 500 ms late: within tolerance, so a real timeout
    expect(timeouts).toEqual([start + 6_500]);
  });
});
