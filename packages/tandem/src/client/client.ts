import type { Position, ResyncPayload, TandemError } from '../protocol';
import { resolveBackoff } from './backoff';
import { checkOptions, checkUrl } from './check-options';
import { Emitter } from './emitter';
import { defaultStorage, type Environment, resolveEnvironment } from './environment';
import { publicFace } from './face';
import { type IncomingEvent, Merge, type Snapshot } from './merge';
import type { LiveClientOptions } from './options';
import { PollPath } from './poll-path';
import { resolvePoll } from './poll-schedule';
import { createPoller, type Poller } from './poller';
import { cursorOf, loadPositions, PositionSaver, positionsFromCursor, positionsKey } from './positions';
import { StreamSession } from './session';
import type { ClientCore, EngineTap, TabShare } from './share/core';
import { type SharePlatform, sharePlatform } from './share/platform';
import { tapTransport } from './share/tap';
import { SHARE_KIT } from './share-kit';
import { StateStore } from './state';
import { TokenProvider } from './token';
import { fetchTransport } from './transports/fetch';
import type { EventHandler, EventMap, EventMeta, LiveClient, LiveState, ResyncHandler } from './types';
import { endpointUrl } from './urls';

/**
 * Creates a live client: a stream (backoff, heartbeat watchdog), a safety-net poller, and the merge
 * making both one exactly-once feed. It opens nothing until `start()` or `mount()` (LiveProvider).
 */
export function createLiveClient<E extends EventMap = EventMap>(options: LiveClientOptions): LiveClient<E> {
  return publicFace(new LiveClientImpl<E>(options));
}

/** The stream of a group of tabs (see share/): a client over the union of their channels. */
function createEngine(options: LiveClientOptions, tap: EngineTap): LiveClient {
  return new LiveClientImpl(options, tap);
}

class LiveClientImpl<E extends EventMap> implements LiveClient<E>, ClientCore {
  readonly env: Environment;
  readonly channels: readonly string[];
  readonly #merge: Merge;
  readonly #poller: Poller;
  readonly #state = new StateStore();
  readonly #emitter: Emitter;
  readonly tokens: TokenProvider;
  readonly types = new Set<string>();
  readonly presence: LiveClient['presence'] = (channel) => this.#session.presence.view(channel);
  readonly onPresence: LiveClient['onPresence'] = (channel, on) => this.#session.presence.on(channel, on);
  readonly #saver: PositionSaver;
  readonly #session: StreamSession;
  readonly #polls: PollPath;
  /** Tab sharing, loaded at the first start where the client may share (see `sharing`). */
  #share: TabShare | null = null;
  /**
   * Web Locks and BroadcastChannel when this client may share: sharing on, an identity to group
   * by (a token or a `shareKey`), and not a group's own stream. Null otherwise.
   */
  #sharing: SharePlatform | null;

  #running = false;
  /** Started, but put away (page frozen or in the back/forward cache, or hidden with `pauseWhenHidden`). */
  #suspended = false;
  #closed = false;
  #mounts = 0;
  readonly #pauseWhenHidden: boolean;
  #unsubscribePlatform: Array<() => void> = [];
  /** This client runs its own stream and poller (not fed by a group of tabs). */
  #ownRunning = false;

  readonly #options: LiveClientOptions;
  readonly #tap: EngineTap | undefined;

  constructor(options: LiveClientOptions, tap?: EngineTap) {
    const channels = checkOptions(options);
    this.#options = options;
    this.#tap = tap;
    // The environment seams are options of the same names.
    this.env = resolveEnvironment(options);
    this.#emitter = new Emitter(options.onHandlerError ?? ((error) => console.error(error)));
    this.tokens = new TokenProvider(options.token, this.env.now);
    this.channels = channels;
    this.#pauseWhenHidden = options.pauseWhenHidden ?? false;
    const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const storage = options.storage === undefined ? defaultStorage() : options.storage;
    const initial = options.cursor
      ? positionsFromCursor(options.cursor, channels)
      : loadPositions(storage, options.storageKey ?? positionsKey(options.url, channels), channels);
    for (const type of options.eventTypes ?? []) this.types.add(type);

    this.#merge = new Merge(channels, (event) => this.#deliver(event), initial);
    this.#saver = new PositionSaver(storage, options.storageKey ?? positionsKey(options.url, channels), () =>
      this.#merge.positions(),
    );
    const pollOptions = resolvePoll(options.poll);
    this.#poller = createPoller(
      this.env,
      pollOptions,
      () => this.#state.get().status === 'open',
      () => this.#polls.once(),
      () => this.#updatePolling(),
    );
    const client = this;
    const shared = {
      env: this.env,
      merge: this.#merge,
      tokens: this.tokens,
      channels,
      accept: (event: IncomingEvent, snapshot?: Snapshot) => this.#accept(event, snapshot),
      resync: (payload: ResyncPayload, snapshot: Snapshot, adoptFrom?: Map<string, Position>) =>
        this.#resynced(payload, snapshot, adoptFrom),
      fail: (error: TandemError) => this.fail(error),
      changed: () => this.#saver.queue(),
    };
    this.#polls = new PollPath({
      ...shared,
      pollUrl: endpointUrl(options.url, 'poll', channels),
      fetch: doFetch,
      credentials: options.credentials ?? 'same-origin',
      poll: pollOptions,
      pollNow: () => this.pollNow(),
      get stopped() {
        return !client.#running;
      },
    });
    const transport =
      options.transport ?? fetchTransport({ fetch: doFetch, credentials: options.credentials });
    this.#session = new StreamSession({
      ...shared,
      state: this.#state,
      poller: this.#poller,
      transport: tap ? tapTransport(transport, tap) : transport,
      backoff: resolveBackoff(options.backoff),
      streamUrl: endpointUrl(options.url, 'stream', channels),
      watchdog: options.watchdog ?? {},
      headsGraceMs: pollOptions.headsGraceMs,
      types: this.types,
      updatePolling: () => this.#updatePolling(),
    });
    const identity = options.token !== undefined || options.shareKey !== undefined;
    this.#sharing = !tap && identity && options.shareAcrossTabs !== false ? sharePlatform() : null;
  }

  // ---- subscriptions ----------------------------------------------------------------------

  on<K extends keyof E & string>(type: K, handler: EventHandler<E[K]>): () => void {
    const off = this.#emitter.on(type, handler as (data: unknown, meta: EventMeta) => void);
    if (!this.types.has(type)) {
      this.types.add(type);
      this.#session.listen(type);
      this.#share?.listen();
    }
    return off;
  }

  onAny(handler: (type: keyof E & string, data: E[keyof E], meta: EventMeta) => void): () => void {
    return this.#emitter.onAny(handler as (type: string, data: unknown, meta: EventMeta) => void);
  }

  onResync(handler: ResyncHandler): () => void {
    return this.#emitter.onResync(handler);
  }

  subscribeState(listener: (state: LiveState) => void): () => void {
    return this.#state.subscribe(listener);
  }

  getState(): LiveState {
    return this.#state.get();
  }

  getPositions(): Record<string, Position> {
    return this.#merge.positions();
  }

  getCursor(): string | null {
    const positions = this.#merge.positions();
    return cursorOf(this.channels, (channel) => positions[channel]);
  }

  // ---- life cycle -------------------------------------------------------------------------

  start(): void {
    if (this.#running || this.#closed) return;
    checkUrl(this.#options.url);
    this.#running = true;
    this.#state.set({ status: 'connecting', attempt: 0, lastError: null });
    if (this.#share) this.#share.start();
    else if (this.#sharing) this.#loadShare(this.#sharing);
    else this.runOwn();
  }

  /**
   * Loads the sharing layer (a chunk of its own in an app's bundle) and joins the group. Nothing
   * is opened meanwhile: the group decides whether this client runs a stream. If the chunk
   * cannot load, the client runs its own stream, as where sharing is impossible.
   */
  #loadShare(parts: SharePlatform): void {
    import('./share').then(
      ({ createTabShare }) => {
        if (!this.#running || this.#share) return;
        this.#share = createTabShare(this.#options, this, createEngine, parts, SHARE_KIT);
        this.#share.start();
      },
      () => {
        this.#sharing = null;
        this.runOwn();
      },
    );
  }

  /** Runs this client's own stream and poller (not shared, or sharing is impossible). */
  runOwn(): void {
    if (!this.#running || this.#ownRunning) return;
    this.#ownRunning = true;
    const { env } = this;
    this.#unsubscribePlatform = [
      // Back online: a retry waiting out its backoff goes now (the poller polls at once too).
      // Offline: the stream ends and no attempt is made until `online`.
      env.online.subscribe((online) => {
        if (this.#suspended) return;
        if (online) this.#session.online();
        else this.#session.offline();
      }),
      // Into the back/forward cache or frozen: no connection held; back: resume from the cursor.
      env.frozen.subscribe(() => this.#updateSuspension()),
    ];
    if (this.#pauseWhenHidden) {
      this.#unsubscribePlatform.push(env.hidden.subscribe(() => this.#updateSuspension()));
    }
    this.#suspended = this.#shouldSuspend();
    if (this.#suspended) this.#state.set({ status: 'idle', polling: false });
    else this.#runEngine();
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#share?.stop();
    this.#stopOwn();
    this.#saver.flush();
    this.#state.set({ status: this.#closed ? 'closed' : 'idle', polling: false });
  }

  #stopOwn(): void {
    for (const off of this.#unsubscribePlatform.splice(0)) off();
    this.#ownRunning = false;
    this.#suspended = false;
    this.#halt();
  }

  #shouldSuspend(): boolean {
    return this.env.frozen.get() || (this.#pauseWhenHidden && this.env.hidden.get());
  }

  #updateSuspension(): void {
    if (!this.#running || !this.#ownRunning) return;
    const suspend = this.#shouldSuspend();
    if (suspend === this.#suspended) return;
    this.#suspended = suspend;
    if (suspend) {
      this.#halt();
      this.#saver.flush();
      this.#state.set({ status: 'idle', polling: false });
    } else {
      this.#state.set({ status: 'connecting', attempt: 0, lastError: null });
      this.#runEngine();
    }
  }

  /** Opens the stream and starts the poller. */
  #runEngine(): void {
    this.#session.start();
    this.#poller.start();
  }

  /** Closes the stream and stops polling; positions are kept. */
  #halt(): void {
    this.#session.stop();
    this.#poller.stop();
    this.#polls.stop();
  }

  mount(): () => void {
    this.#mounts++;
    this.start();
    let mounted = true;
    return () => {
      if (!mounted) return;
      mounted = false;
      this.#mounts--;
      // Stop one microtask later: an unmount followed at once by a mount (React's StrictMode,
      // a provider moving in the tree) keeps the stream.
      queueMicrotask(() => {
        if (this.#mounts === 0) this.stop();
      });
    };
  }

  pollNow(): Promise<void> {
    return this.#share?.driven ? this.#share.pollNow() : this.#poller.pollNow();
  }

  reconnect(): void {
    if (this.#share?.driven) this.#share.reconnect();
    else this.#session.reconnect();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#running) this.stop();
    else this.#saver.flush();
    this.#state.set({ status: 'closed', polling: false });
  }

  // ---- driven by the tab group (share/) -----------------------------------------------------

  get started(): boolean {
    return this.#running;
  }

  ingest(event: IncomingEvent): void {
    if (this.#running && this.#merge.channels.includes(event.channel)) this.#accept(event);
  }

  learn(positions: Record<string, Position>): void {
    const none = new Map();
    for (const [channel, position] of Object.entries(positions)) {
      this.#merge.learn(channel, { epoch: position.epoch, head: position.offset }, none);
    }
    this.#saver.queue();
  }

  setState(patch: Partial<LiveState>): void {
    this.#state.set(patch);
  }

  pollOnce(): Promise<number | undefined> {
    return this.#polls.once();
  }

  // ---- inside -----------------------------------------------------------------------------

  #updatePolling(): void {
    if (!this.#running) return;
    this.#state.set({ polling: this.#poller.inFlight || this.#state.get().status !== 'open' });
  }

  /** 400/403: retrying cannot help. Stop everything and keep the error in the state. */
  fail(error: TandemError): void {
    if (this.#closed) return;
    this.close();
    this.#state.set({ lastError: error });
  }

  #accept(event: IncomingEvent, snapshot?: Snapshot): void {
    this.#tap?.event(event);
    const result = this.#merge.accept(event, snapshot);
    if (result === 'held' || result === 'foreign') this.#polls.requestFollowUp();
    if (result === 'delivered') this.#saver.queue();
  }

  #deliver(event: IncomingEvent): void {
    this.#state.set({ lastEventAt: this.env.now() });
    this.#emitter.emit(event);
  }

  #resynced(payload: ResyncPayload, snapshot: Snapshot, adoptFrom?: Map<string, Position>): void {
    this.#tap?.resync(payload.channels, payload.reason);
    const channels = this.#merge.resync(payload.channels, snapshot, adoptFrom, payload.reason);
    this.#saver.queue();
    if (channels.length === 0) return;
    this.#emitter.emitResync(channels, payload.reason);
  }
}
