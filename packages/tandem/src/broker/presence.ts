import type { Broker } from './contract';

/** One stream of a member on a channel, as a presence store keeps it. */
export interface PresenceEntry {
  /** The stream's id (unique across hubs: each hub prefixes its own). */
  connection: string;
  subject: string;
  info?: Record<string, unknown>;
  /**
   * Set once the stream has ended: it still counts until then (ms since the Unix epoch), so a
   * reload or a stream rotation is not a leave and a join.
   */
  until?: number;
}

/** A channel's presence: its entries and a version that grows with every change. */
export interface PresenceRecord {
  version: number;
  entries: PresenceEntry[];
}

/**
 * Where a broker keeps who is on each channel, shared by every hub on the broker. Entries are
 * written by the hub that holds the stream; a store shared across processes also drops the
 * entries of a hub that stopped refreshing them (see docs/presence.md).
 */
export interface PresenceStore {
  /** Adds entries, or replaces those of the same connection. */
  put(channel: string, entries: readonly PresenceEntry[]): Promise<void>;
  remove(channel: string, connections: readonly string[]): Promise<void>;
  read(channel: string): Promise<PresenceRecord>;
  /** Calls `listener` after the channel's presence changed (coalesced); returns the unwatch. */
  watch(channel: string, listener: () => void): () => void;
  /**
   * A store whose entries expire unless refreshed (so a killed hub leaves no ghost): how often
   * each hub calls `refresh`, in ms.
   */
  readonly refreshMs?: number;
  /** Keeps this hub's live entries alive, in one round trip for all its channels. */
  refresh?(entries: ReadonlyMap<string, readonly PresenceEntry[]>): Promise<void>;
}

interface MemoryChannel {
  version: number;
  entries: Map<string, PresenceEntry>;
  listeners: Set<() => void>;
  notifying: boolean;
}

/** A presence store in this process: what every hub on one memory broker shares. */
export function memoryPresenceStore(): PresenceStore {
  const channels = new Map<string, MemoryChannel>();
  const of = (channel: string): MemoryChannel => {
    let state = channels.get(channel);
    if (!state) {
      state = { version: 0, entries: new Map(), listeners: new Set(), notifying: false };
      channels.set(channel, state);
    }
    return state;
  };
  const drop = (channel: string, state: MemoryChannel) => {
    if (state.entries.size === 0 && state.listeners.size === 0) channels.delete(channel);
  };
  const changed = (channel: string, state: MemoryChannel) => {
    state.version++;
    if (state.notifying || state.listeners.size === 0) return drop(channel, state);
    // Every change of this task, told once.
    state.notifying = true;
    queueMicrotask(() => {
      state.notifying = false;
      for (const listener of [...state.listeners]) listener();
    });
  };
  return {
    async put(channel, entries) {
      const state = of(channel);
      for (const entry of entries) state.entries.set(entry.connection, { ...entry });
      changed(channel, state);
    },
    async remove(channel, connections) {
      const state = channels.get(channel);
      if (!state) return;
      let removed = false;
      for (const id of connections) removed = state.entries.delete(id) || removed;
      if (removed) changed(channel, state);
    },
    async read(channel) {
      const state = channels.get(channel);
      return state
        ? { version: state.version, entries: [...state.entries.values()] }
        : { version: 0, entries: [] };
    },
    watch(channel, listener) {
      const state = of(channel);
      state.listeners.add(listener);
      return () => {
        state.listeners.delete(listener);
        drop(channel, state);
      };
    },
  };
}

const memoryStores = new WeakMap<Broker, PresenceStore>();

/** The broker's presence store; one in this process, shared by its hubs, for a broker without. */
export function presenceStoreOf(broker: Broker): PresenceStore {
  if (broker.presence) return broker.presence;
  let store = memoryStores.get(broker);
  if (!store) {
    store = memoryPresenceStore();
    memoryStores.set(broker, store);
  }
  return store;
}
