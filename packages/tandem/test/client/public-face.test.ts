/**
 * What `createLiveClient` returns is the `LiveClient` interface and nothing else: the parts of
 * the client that the tab layer drives (its state setter, the merge's intake, its own run) are
 * not reachable from the app, so no app can reach past the merge or fake a state.
 */
import { describe, expect, it } from 'vitest';
import { createLiveClient } from '../../src/client';

describe('a client as the app gets it', () => {
  it('carries only the LiveClient methods, each bound to the client', () => {
    const live = createLiveClient({ url: 'http://127.0.0.1:1/live', channels: ['orders'] });
    expect(Object.keys(live).sort()).toEqual(
      [
        'close',
        'getCursor',
        'getPositions',
        'getState',
        'mount',
        'on',
        'onAny',
        'onPresence',
        'onResync',
        'pollNow',
        'presence',
        'reconnect',
        'start',
        'stop',
        'subscribeState',
      ].sort(),
    );
    for (const internal of [
      'ingest',
      'learn',
      'setState',
      'fail',
      'runOwn',
      'pollOnce',
      'types',
      'tokens',
      'env',
    ]) {
      expect(internal in live, internal).toBe(false);
    }
    // Bound: a method taken off the object still works (as React's useSyncExternalStore takes it).
    const { getState } = live;
    expect(getState().status).toBe('idle');
    live.close();
    expect(getState().status).toBe('closed');
  });
});
