import type { Hub } from './hub';
import type { EventMap } from './options';

/** A new key: the entries carry their factory's source besides the hub. */
const KEY = Symbol.for('tandem.globalHubs');

interface GlobalEntry {
  hub: Hub<EventMap>;
  /** The factory that created it, compared as `shapeOf` prints it. */
  shape: string;
  /** Its source as written, for the message. */
  source: string;
  /** Factories already reported in production, so that each is reported once. */
  warned: Set<string>;
}

/**
 * A factory's source reduced to what two copies of one module always share: no spaces, and
 * every name that is not a property made `_`. A bundler names a module's imports differently in
 * each copy it makes (a route handler's bundle and a page's, `T` here and `aC` there); the
 * options' keys and values, which decide what the hub does, stay.
 */
function shapeOf(source: string): string {
  return source.replace(/\s+/g, '').replace(/(^|[^\w$.])[A-Za-z_$][\w$]*(?![\w$]|:)/g, '$1_');
}

const production = () =>
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.NODE_ENV ===
  'production';

/**
 * The hub named `name`, created once per process and kept on `globalThis`, so a Next.js dev
 * reload (which re-evaluates modules) reuses it instead of opening a second one:
 *
 * ```ts
 * import { createHub, globalHub } from 'tandem/server';
 *
 * export const getHub = () => globalHub('live', () => createHub());
 * ```
 *
 * A reload, or another bundle of the same module, calls it with the same factory. A factory
 * that differs (other options) under the same name throws, showing both: two modules creating
 * `'live'`, one with `authorize` and one without, would otherwise share whichever hub came
 * first, and the order of imports would decide whether auth is on. With `NODE_ENV` set to
 * `production` it warns instead (once per factory) and returns the running hub: factories are
 * compared by their source as the bundler printed it, which a refusal must not bet a running
 * app on.
 */
export function globalHub<E extends EventMap = EventMap>(name: string, create: () => Hub<E>): Hub<E> {
  const store = globalThis as { [KEY]?: Map<string, GlobalEntry> };
  store[KEY] ??= new Map();
  const hubs = store[KEY];
  const source = String(create).replace(/\s+/g, ' ');
  const shape = shapeOf(source);
  const entry = hubs.get(name);
  if (!entry) {
    const hub = create();
    hubs.set(name, { hub: hub as unknown as Hub<EventMap>, shape, source, warned: new Set() });
    return hub;
  }
  if (entry.shape !== shape) {
    const message = conflict(name, entry.source, source);
    if (!production()) throw new Error(message);
    if (!entry.warned.has(shape)) {
      entry.warned.add(shape);
      console.warn(`tandem: ${message}`);
    }
  }
  return entry.hub as unknown as Hub<E>;
}

/** The message for two factories under one name: both sources, each cut short. */
function conflict(name: string, first: string, next: string): string {
  const cut = (source: string) => (source.length > 200 ? `${source.slice(0, 200)}…` : source);
  return (
    `globalHub('${name}') was called with a different factory than the one that created the hub:\n` +
    `  first: ${cut(first)}\n  now:   ${cut(next)}\n` +
    "Both would get the first hub, with the first factory's options (authorize, broker…). Create the " +
    'hub in one module that every route imports, or give each hub its own name. After editing the ' +
    'factory during development, restart the server: the running hub keeps the options it was created with.'
  );
}
