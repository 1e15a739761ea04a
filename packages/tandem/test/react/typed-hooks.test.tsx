import { describe, expect, expectTypeOf, it } from 'vitest';
import { createLiveClient, type EventsOf } from '../../src/client';
import { createLiveHooks } from '../../src/react';
import type { Hub } from '../../src/server';

interface Order {
  id: number;
  total: number;
}
type AppEvents = { 'order:created': Order; 'order:shipped': { id: number } };

// Checked by the type check of `npm test`: a wrong name or data type fails it.
function useTypedUsage(): void {
  const { useLiveEvent, useLiveQuery, useLiveInvalidation } = createLiveHooks<AppEvents>();
  useLiveEvent('order:created', (order) => {
    expectTypeOf(order).toEqualTypeOf<Order>();
  });
  // @ts-expect-error: not an event of the map
  useLiveEvent('order:lost', () => {});
  useLiveQuery(async () => 1, { refetchOn: ['order:shipped'] });
  // @ts-expect-error: not an event of the map
  useLiveQuery(async () => 1, { refetchOn: ['nope'] });
  useLiveInvalidation(
    { invalidateQueries: () => undefined },
    { 'order:shipped': (data) => ['order', data.id] },
  );
}

describe('typed hooks', () => {
  it('are the same hooks, typed by the event map', () => {
    const hooks = createLiveHooks<AppEvents>();
    expect(Object.keys(hooks).sort()).toEqual([
      'useLiveClient',
      'useLiveEvent',
      'useLiveInvalidation',
      'useLiveQuery',
      'useLiveStatus',
    ]);
    expect(typeof useTypedUsage).toBe('function');
  });

  it("reads the hub's event map for the client", () => {
    type Events = EventsOf<Hub<AppEvents>>;
    expectTypeOf<Events>().toEqualTypeOf<AppEvents>();
    const client = createLiveClient<Events>({ url: 'http://127.0.0.1:1/live', channels: ['a'] });
    client.on('order:created', (order) => expectTypeOf(order).toEqualTypeOf<Order>());
    client.close();
  });
});
