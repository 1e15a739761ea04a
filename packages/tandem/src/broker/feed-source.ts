/** What the live feed (feed.ts) needs from a broker: the log behind it, and its options. */
import type { LiveEvent } from '../protocol';
import type { ReadResult } from './contract';

export type Listener = (event: LiveEvent) => void;

export interface FeedSource {
  /**
   * The channel's epoch and head right now (`epoch` undefined when the log does not exist).
   * Called synchronously by `subscribe`, so that on an ordered connection it runs before any
   * read the subscriber issues next: every event after it reaches the listener.
   */
  position(channel: string): Promise<{ epoch: string | undefined; head: number }>;
  /**
   * Everything retained after `after`; when the log's epoch is not `epoch`, everything retained
   * of the new log instead.
   */
  read(channel: string, after: number, epoch: string | undefined): Promise<ReadResult>;
  /**
   * The log of `epoch` has a head below `last`, an offset already delivered: it went back in
   * time, and its offsets would be reused. The source replaces it with a new epoch.
   */
  rewound(channel: string, epoch: string, last: number): Promise<void>;
}

export interface FeedOptions {
  /**
   * Delay before retrying a repair that failed (the broker's store unreachable).
   * @default 250
   */
  retryMs?: number;
  /**
   * Receives errors thrown by listeners.
   * @default ignored
   */
  onListenerError?: (error: unknown) => void;
}
