import { describe, expect, it } from 'vitest';
import { PresenceViews } from '../../src/client/presence';
import { StateStore } from '../../src/client/state';
import type { PresencePayload } from '../../src/protocol';

const payload = (version: number, users: number, extra: Partial<PresencePayload> = {}): PresencePayload => ({
  channel: 'room:1',
  version,
  users,
  connections: users,
  members: Array.from({ length: users }, (_, i) => ({ subject: `u${i}`, connections: 1 })),
  ...extra,
});

describe("the client's presence views", () => {
  it('takes a snapshot, then only newer versions, and drops updates before a snapshot', () => {
    const state = new StateStore();
    const views = new PresenceViews(state);
    views.apply(payload(5, 3));
    expect(views.view('room:1')).toEqual({ users: 0, connections: 0, synced: false });
    views.apply(payload(5, 2, { snapshot: true }));
    expect(views.view('room:1')).toMatchObject({ users: 2, synced: true });
    views.apply(payload(4, 7));
    expect(views.view('room:1').users).toBe(2);
    views.apply(payload(6, 3));
    expect(views.view('room:1').users).toBe(3);
    // A new stream's snapshot wins whatever its version (another store, a restarted one).
    views.apply(payload(1, 1, { snapshot: true }));
    expect(views.view('room:1').users).toBe(1);
  });

  it('is unsynced as soon as the stream is not open, keeping the last counts', () => {
    const state = new StateStore();
    state.set({ status: 'open' });
    const views = new PresenceViews(state);
    const seen: boolean[] = [];
    views.on('room:1', (view) => seen.push(view.synced));
    views.apply(payload(1, 2, { snapshot: true }));
    const before = views.view('room:1');
    state.set({ status: 'reconnecting' });
    expect(views.view('room:1')).toMatchObject({ users: 2, synced: false });
    expect(views.view('room:1')).not.toBe(before);
    // Updates of the old stream no longer count until the next snapshot.
    views.apply(payload(2, 5));
    expect(views.view('room:1')).toMatchObject({ users: 2, synced: false });
    expect(seen).toEqual([true, false]);
  });

  it('tells joins and leaves by subject, and nothing for counts only', () => {
    const views = new PresenceViews(new StateStore());
    const changes: string[] = [];
    const off = views.on('room:1', (_view, change) =>
      changes.push(
        `+${change.joined.map((m) => m.subject).join(',')} -${change.left.map((m) => m.subject).join(',')}`,
      ),
    );
    views.apply(payload(1, 2, { snapshot: true }));
    views.apply({
      ...payload(2, 2),
      members: [
        { subject: 'u1', connections: 1 },
        { subject: 'u9', connections: 1 },
      ],
    });
    views.apply({ channel: 'room:1', version: 3, users: 500, connections: 600 });
    off();
    views.apply(payload(4, 1));
    expect(changes).toEqual(['+ -', '+u9 -u0', '+ -']);
    expect(views.view('room:1')).toMatchObject({ users: 1, synced: true });
  });
});
