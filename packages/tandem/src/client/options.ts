import type { BackoffOptions } from './backoff';
import type { PositionStorage, Signal, Timers } from './environment';
import type { PollOptions } from './poll-schedule';
import type { TokenSource } from './token';
import type { FetchLike } from './transports/fetch';
import type { Transport } from './transports/transport';
import type { WatchdogOptions } from './watchdog';

export interface LiveClientOptions {
  /** Base URL of the hub: the client uses `{url}/stream` and `{url}/poll`. Absolute in Node. */
  url: string;
  /** Channels to follow (1–64 valid names). */
  channels: readonly string[];
  /**
   * Bearer token, or a function returning one. The function is called on the first connect, shortly
   * before a JWT's `exp`, and after a `401` or a `token_expired` bye, and is told which
   * (`{ reason: 'connect' | 'expiry' | 'unauthorized', previous }`). Omit it to rely on cookies.
   */
  token?: TokenSource;
  /**
   * How the stream is opened: `eventSourceTransport()` (native EventSource) or your own. Only
   * the transport given is bundled. @default a streamed fetch with this client's `fetch` and `credentials`
   */
  transport?: Transport;
  /** Reconnect delays. @default 100 ms × 1.3ⁿ, capped at 2 s, full jitter; the whole 2 s window after a drop */
  backoff?: BackoffOptions;
  /** Heartbeat watchdog. @default 3 × the server's heartbeat (6 s for the default 2 s) */
  watchdog?: WatchdogOptions;
  /**
   * Safety-net poller. @default every 3 s while the stream is not open; while it is, only when
   * a heartbeat shows the client behind a head; paused when hidden
   */
  poll?: PollOptions;
  /** Where positions persist across reloads; `null` for nowhere. @default sessionStorage when present */
  storage?: PositionStorage | null;
  /** Storage key. @default derived from url and channels */
  storageKey?: string;
  /** A cursor to start from, e.g. rendered into the page by the server. Takes precedence over storage. */
  cursor?: string;
  /** The fetch used for polls and the default transport's stream. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Cookies on polls and the default transport's stream. @default 'same-origin' */
  credentials?: RequestCredentials;
  /** Event types an EventSource transport listens for besides those given to `on`. @default [] */
  eventTypes?: readonly string[];
  /**
   * Share one stream between the tabs of this browser that follow the same hub as the same
   * identity: one tab (the leader) holds the stream and relays it to the others. Needs Web Locks
   * and BroadcastChannel (else each client has its own stream, as with `false`). @default true
   */
  shareAcrossTabs?: boolean;
  /**
   * Who this client is, for sharing: clients with the same `url` and `shareKey` share a stream.
   * @default derived from the token when it is a JWT (its claims but `exp`, `iat`, `nbf`,
   * `jti`); with an opaque token or cookies and no key, the client does not share
   */
  shareKey?: string;
  /**
   * Close the stream (and stop polling) while the page is hidden, and resume from the cursor,
   * delivering what was missed, when it is shown again. Saves the server a connection per
   * background tab at the price of a catch-up on return. @default false (hidden tabs keep their stream)
   */
  pauseWhenHidden?: boolean;
  /** Called with errors thrown by the app's handlers. @default console.error */
  onHandlerError?: (error: unknown) => void;

  // Environment seams (tests, non-browser hosts).
  /** @default Date.now */
  now?: () => number;
  /** @default globalThis.setTimeout / clearTimeout */
  timers?: Timers;
  /** @default Math.random */
  random?: () => number;
  /** True while the page is hidden. @default document.visibilityState, or never hidden */
  hidden?: Signal;
  /** True while online. @default navigator.onLine with online/offline events, or always online */
  online?: Signal;
  /** True while the page is in the back/forward cache or frozen. @default pagehide/pageshow, freeze/resume */
  frozen?: Signal;
}
