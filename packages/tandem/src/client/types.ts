import type { EventMap, Position, ResyncReason, TandemError } from '../protocol';
import type { LivePresence, PresenceListener } from './presence';

export type { EventMap };

/**
 * - `idle`: not started (or stopped, or the page is put away): nothing open, nothing polled;
 * - `connecting`: the first stream is being opened;
 * - `open`: the stream is up;
 * - `reconnecting`: the stream dropped, a new one is on its way (the poller runs meanwhile);
 * - `closed`: `close()` was called, or the server refused the request for good (see `lastError`).
 */
export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** What `subscribeState` reports. A new object on every change (safe for useSyncExternalStore). */
export interface LiveState {
  status: ConnectionStatus;
  /** Whether the safety-net poller currently runs at its fast (stream-down) rate or a poll is in flight. */
  polling: boolean;
  /** Consecutive failed connection attempts since the last stable open. */
  attempt: number;
  /** The last error, with the wire's error code; null after a stable open. */
  lastError: TandemError | null;
  /** When the last app event was delivered (ms), or null. */
  lastEventAt: number | null;
  /** How this client shares one stream with the other tabs of the browser. */
  share: ShareState;
}

/**
 * A client's place in its group of tabs: the clients of one origin that follow the same hub as
 * the same identity share one stream, held by one of them (the leader).
 */
export interface ShareState {
  /**
   * - `alone`: the client runs its own stream (sharing is off, impossible here, or not started);
   * - `leader`: this client holds the group's stream and relays it to the others;
   * - `follower`: another client (usually another tab) holds it.
   */
  role: 'alone' | 'leader' | 'follower';
  /** Clients in the group, this one included (1 when alone). */
  members: number;
  /** This client's id in its group ('' when alone). */
  id: string;
  /** The leader's id, or null when alone or while no leader is known. */
  leader: string | null;
}

/** Details of one delivered event. */
export interface EventMeta {
  channel: string;
  type: string;
  offset: number;
  epoch: string;
  /** Publish time on the server (ms). */
  ts: number;
  /** Which path delivered it first. */
  source: 'stream' | 'poll';
}

export type EventHandler<T> = (data: T, meta: EventMeta) => void;
export type ResyncHandler = (channels: string[], reason: ResyncReason) => void;

/** The public face of a live connection; `createLiveClient` returns one. */
export interface LiveClient<E extends EventMap = EventMap> {
  /** Subscribes to one event type; returns the unsubscribe function. */
  on<K extends keyof E & string>(type: K, handler: EventHandler<E[K]>): () => void;
  /** Subscribes to every app event. */
  onAny(handler: (type: keyof E & string, data: E[keyof E], meta: EventMeta) => void): () => void;
  /** Fires when the server reports lost continuity: reload the state of these channels. */
  onResync(handler: ResyncHandler): () => void;
  /** Who is on a channel of a hub with presence (`synced` false until the server's view arrived). */
  presence(channel: string): LivePresence;
  /** Calls `listener` on every change of a channel's presence; returns the unsubscribe function. */
  onPresence(channel: string, listener: PresenceListener): () => void;
  subscribeState(listener: (state: LiveState) => void): () => void;
  getState(): LiveState;
  /** The positions seen so far, per channel. */
  getPositions(): Record<string, Position>;
  /** The cursor to resume from (what the stream's `id:` and `/poll?cursor=` carry). */
  getCursor(): string | null;
  /** Starts connecting. A new client does nothing until started or mounted. */
  start(): void;
  /** Stops stream, poller and timers, keeping the positions; `start()` resumes from them. */
  stop(): void;
  /**
   * Reference-counted start: the first mount starts the client, the last unmount stops it.
   * Returns the unmount function (calling it twice counts once). `LiveProvider` does this.
   */
  mount(): () => void;
  /** Polls now, whatever the schedule; resolves when the poll is done. */
  pollNow(): Promise<void>;
  /** Drops the current stream and reconnects at once. */
  reconnect(): void;
  /** Stops everything for good: stream, poller, timers. The client cannot be restarted. */
  close(): void;
}
