import type { Hub } from './hub';
import type { EventMap } from './options';

const KEY = Symbol.for('tandem.hubs');

/**
 * The hub named `name`, created once per process and kept on `globalThis`, so a Next.js dev
 * reload (which re-evaluates modules) reuses it instead of opening a second one:
 *
 * ```ts
 * export const hub = globalHub('live', () => createHub({ broker }));
 * ```
 */
export function globalHub<E extends EventMap = EventMap>(name: string, create: () => Hub<E>): Hub<E> {
  const store = globalThis as { [KEY]?: Map<string, Hub<EventMap>> };
  store[KEY] ??= new Map();
  const hubs = store[KEY];
  let hub = hubs.get(name) as Hub<E> | undefined;
  if (!hub) {
    hub = create();
    hubs.set(name, hub as unknown as Hub<EventMap>);
  }
  return hub;
}
