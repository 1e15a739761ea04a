import type { isValidEpoch, Position, ResyncReason, TandemError, TimerSlot } from '../../protocol';
import type { Environment } from '../environment';
import type { IncomingEvent } from '../merge';
import type { LiveClientOptions } from '../options';
import type { cursorOf } from '../positions';
import type { isFatal } from '../retry';
import type { singleFlight } from '../single-flight';
import type { jwtClaims, TokenProvider } from '../token';
import type { LiveClient, LiveState } from '../types';
import type { createWatchdog } from '../watchdog';
import type { SharePlatform } from './platform';

/**
 * What the tab-sharing layer needs from a client: the parts of it that a group drives when the
 * group's stream, not the client's own, brings its events.
 */
export interface ClientCore {
  readonly env: Environment;
  readonly channels: readonly string[];
  readonly tokens: TokenProvider;
  /** Event types the app listens for (the `eventsource` transport needs them). */
  readonly types: ReadonlySet<string>;
  /** Whether the client is started. */
  readonly started: boolean;
  /** Runs the client's own stream and poller, as an unshared client does. */
  runOwn(): void;
  /** An event the group's stream or poller brought: merged like one of the client's own. */
  ingest(event: IncomingEvent): void;
  /** Where the group's stream stands: channels with no position yet start there. */
  learn(positions: Record<string, Position>): void;
  /** The group's connection state (and the share's own description). */
  setState(patch: Partial<LiveState>): void;
  /** One poll of the client's own channels with its own positions and token, now. */
  pollOnce(): Promise<unknown>;
  getPositions(): Record<string, Position>;
  getState(): LiveState;
  /** Retrying cannot help (the hub refused these channels for good): stop, keeping the error. */
  fail(error: TandemError): void;
}

/** What a group's stream (a client over the union of the group's channels) reports besides its state. */
export interface EngineTap {
  /** Every event the stream or the poller brought, before the merge (duplicates included). */
  event(event: IncomingEvent): void;
  /** Every resync report of either path. */
  resync(channels: readonly string[], reason: ResyncReason): void;
  /** Bytes arrived on the stream (the server's heartbeats included). */
  activity(): void;
}

/** Creates the client that runs a group's stream. */
export type EngineFactory = (options: LiveClientOptions, tap: EngineTap) => LiveClient;

/** A client's membership in its group of tabs. */
export interface TabShare {
  /** Whether the group (not the client's own stream) feeds the client right now. */
  readonly driven: boolean;
  start(): void;
  stop(): void;
  /** The app listens for a new event type. */
  listen(): void;
  pollNow(): Promise<void>;
  reconnect(): void;
}

/**
 * What the sharing layer uses of the client's first chunk, handed to it rather than imported:
 * an app's bundler (esbuild) puts a module that the first chunk and an on-demand chunk both
 * import into a chunk of its own, one more file (and one more gzip stream) before the client
 * runs. So nothing in share/ but `platform.ts` and `tap.ts` imports a value from outside it
 * (the size test checks that the initial bundle is one file).
 */
export interface ShareKit {
  readonly TimerSlot: typeof TimerSlot;
  readonly TandemError: typeof TandemError;
  readonly cursorOf: typeof cursorOf;
  readonly isFatal: typeof isFatal;
  readonly isValidEpoch: typeof isValidEpoch;
  readonly createWatchdog: typeof createWatchdog;
  readonly singleFlight: typeof singleFlight;
  readonly jwtClaims: typeof jwtClaims;
  /** `MAX_CHANNELS_PER_REQUEST`. */
  readonly maxChannels: number;
}

/** What a member of a tab group is made of: its client's options and core, and what the client hands the chunk. */
export interface ShareContext {
  readonly options: LiveClientOptions;
  readonly core: ClientCore;
  readonly makeEngine: EngineFactory;
  readonly parts: SharePlatform;
  readonly kit: ShareKit;
}
