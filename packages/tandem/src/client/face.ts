import type { EventMap, LiveClient } from './types';

/**
 * The object `createLiveClient` returns: the `LiveClient` methods, bound to the client, and
 * nothing else. What the tab layer drives (`ClientCore`: the merge's intake, the state setter,
 * the client's own run) stays reachable only from the client itself, which hands itself to
 * that layer.
 */
export function publicFace<E extends EventMap>(client: LiveClient<E>): LiveClient<E> {
  const face: Record<string, unknown> = {};
  for (const name of FACE) face[name] = (client[name] as (...args: never[]) => unknown).bind(client);
  return face as unknown as LiveClient<E>;
}

const FACE = [
  'on',
  'onAny',
  'onResync',
  'presence',
  'onPresence',
  'subscribeState',
  'getState',
  'getPositions',
  'getCursor',
  'start',
  'stop',
  'mount',
  'pollNow',
  'reconnect',
  'close',
] as const satisfies readonly (keyof LiveClient)[];

// Every member of `LiveClient` is on the face: a member added to the interface and not here
// fails to compile.
const complete: Exclude<keyof LiveClient, (typeof FACE)[number]> extends never ? true : never = true;
void complete;
