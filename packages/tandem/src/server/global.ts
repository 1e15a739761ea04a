import type { Hub } from './hub';
import type { EventMap } from './options';

/** A new key: the entries carry their factory's source besides the hub. */
const KEY = Symbol.for('tandem.globalHubs');

interface GlobalEntry {
  hub: Hub<EventMap>;
  /** The factory that created it, as source text (see `sourceOf`). */
  factory: string;
}

/**
 * A factory's source text, as a reload or another bundle of the same module prints it: spaces
 * collapsed, and names of one or two characters (what a minifier calls a module's imports,
 * differently in each route's bundle) made one. Property names and values stay.
 */
function sourceOf(create: () => unknown): string {
  return String(create)
    .replace(/\s+/g, ' ')
    .replace(/(^|[^\w$.])[A-Za-z_$][\w$]?(?![\w$])/g, '$1_');
}

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
 * A reload calls it again with the same factory, the same source text. A call with another
 * factory under the same name throws, naming the difference: two modules creating `'live'`
 * with different options (one with `authorize`, one without) would otherwise share whichever
 * hub was created first, and the order of imports would decide whether auth is on.
 */
export function globalHub<E extends EventMap = EventMap>(name: string, create: () => Hub<E>): Hub<E> {
  const store = globalThis as { [KEY]?: Map<string, GlobalEntry> };
  store[KEY] ??= new Map();
  const hubs = store[KEY];
  const factory = sourceOf(create);
  const entry = hubs.get(name);
  if (!entry) {
    const hub = create();
    hubs.set(name, { hub: hub as unknown as Hub<EventMap>, factory });
    return hub;
  }
  if (entry.factory !== factory) throw new Error(conflict(name, entry.factory, factory));
  return entry.hub as unknown as Hub<E>;
}

/** The message for two factories under one name, showing where their sources part. */
function conflict(name: string, first: string, next: string): string {
  let at = 0;
  while (at < first.length && first[at] === next[at]) at++;
  const around = (source: string) =>
    `${at > 40 ? '…' : ''}${source.slice(Math.max(0, at - 40), at + 60)}${source.length > at + 60 ? '…' : ''}`;
  return (
    `globalHub('${name}') was called with a different factory than the one that created the hub:\n` +
    `  first: ${around(first)}\n  now:   ${around(next)}\n` +
    "Both would get the first hub, with the first factory's options (authorize, broker…). Create the " +
    'hub in one module that every route imports, or give each hub its own name. After editing the ' +
    'factory during development, restart the server: the running hub keeps the options it was created with.'
  );
}
