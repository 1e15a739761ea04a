/**
 * The platform parts tab sharing needs, Web Locks and BroadcastChannel, found without loading
 * the sharing layer itself: the client loads that only where it can run.
 */

export interface LockManagerLike {
  request(name: string, options: LockOptionsLike, callback: () => unknown): Promise<unknown>;
  query?(): Promise<{ held?: Array<{ name?: string }> }>;
}
export interface LockOptionsLike {
  signal?: AbortSignal;
  steal?: boolean;
}
export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

export interface SharePlatform {
  locks: LockManagerLike;
  BroadcastChannel: new (name: string) => BroadcastChannelLike;
}

/** Web Locks and BroadcastChannel, or null where either is missing (Node, workers, old browsers). */
export function sharePlatform(): SharePlatform | null {
  const g = globalThis as {
    navigator?: { locks?: LockManagerLike };
    BroadcastChannel?: SharePlatform['BroadcastChannel'];
  };
  const locks = g.navigator?.locks;
  if (!locks || typeof locks.request !== 'function' || typeof g.BroadcastChannel !== 'function') return null;
  return { locks, BroadcastChannel: g.BroadcastChannel };
}
