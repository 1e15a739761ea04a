import type { Position, ResyncReason, TandemError } from '../protocol';

/** The app's event map: event type → data type, e.g. `{ 'order:created': Order }`. */
export type EventMap = Record<string, unknown>;

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

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
  subscribeState(listener: (state: LiveState) => void): () => void;
  getState(): LiveState;
  /** The positions seen so far, per channel. */
  getPositions(): Record<string, Position>;
  /** The cursor to resume from (what the stream's `id:` and `/poll?cursor=` carry). */
  getCursor(): string | null;
  /** Starts connecting (done by `createLiveClient` unless `autoStart: false`). */
  start(): void;
  /** Polls now, whatever the schedule; resolves when the poll is done. */
  pollNow(): Promise<void>;
  /** Drops the current stream and reconnects at once. */
  reconnect(): void;
  /** Stops everything: stream, poller, timers. The client cannot be restarted. */
  close(): void;
}
