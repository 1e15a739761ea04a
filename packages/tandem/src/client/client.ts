import {
  assertChannel,
  type ByePayload,
  CONTROL_EVENTS,
  decodeCursor,
  type EventEnvelope,
  type HelloPayload,
  type ParsedEvent,
  type PollResponse,
  type Position,
  type ResyncPayload,
  TandemError,
} from '../protocol';
import { backoffDelay, jittered, resolveBackoff } from './backoff';
import { Emitter } from './emitter';
import { defaultStorage, type Environment, type PositionStorage, resolveEnvironment } from './environment';
import { type IncomingEvent, Merge, type Snapshot } from './merge';
import { environmentOf, type LiveClientOptions } from './options';
import { requestPoll } from './poll-request';
import { type ResolvedPollOptions, resolvePoll } from './poll-schedule';
import { createPoller, type Poller } from './poller';
import { cursorOf, loadPositions, positionsFromCursor, positionsKey, savePositions } from './positions';
import { TokenProvider } from './token';
import { eventSourceTransport } from './transports/eventsource';
import { type FetchLike, fetchTransport } from './transports/fetch';
import type { StreamConnection, Transport } from './transports/transport';
import type { EventHandler, EventMap, EventMeta, LiveClient, LiveState, ResyncHandler } from './types';
import { createWatchdog, type Watchdog } from './watchdog';

/** Errors after which retrying cannot help: the client stops. */
const FATAL_CODES = new Set([
  'bad_request',
  'invalid_channel',
  'forbidden',
  'not_found',
  'method_not_allowed',
]);

function isFatal(error: TandemError): boolean {
  return FATAL_CODES.has(error.code);
}

function isAuthError(error: TandemError): boolean {
  return error.code === 'unauthorized' || error.code === 'token_expired';
}

function endpoint(base: string, name: 'stream' | 'poll', channels: readonly string[]): string {
  const [path = '', query] = base.split('?', 2);
  const params = `channels=${channels.map(encodeURIComponent).join(',')}`;
  return `${path.replace(/\/+$/, '')}/${name}?${query ? `${query}&` : ''}${params}`;
}

/** One stream connection's context: what it was opened with and what it has said. */
interface StreamContext {
  connection: StreamConnection | null;
  snapshot: Snapshot;
  /** Hello positions of channels the server could not resume, for the resync that follows. */
  unrecovered: Map<string, Position>;
  open: boolean;
}

/**
 * The live client: one stream (reconnected with backoff, watched by the heartbeat watchdog),
 * one safety-net poller, and the merge that turns both into one exactly-once feed.
 */
export function createLiveClient<E extends EventMap = EventMap>(options: LiveClientOptions): LiveClient<E> {
  return new LiveClientImpl<E>(options);
}

class LiveClientImpl<E extends EventMap> implements LiveClient<E> {
  private readonly env: Environment;
  private readonly channels: readonly string[];
  private readonly streamUrl: string;
  private readonly pollUrl: string;
  private readonly backoff;
  private readonly transport: Transport;
  private readonly doFetch: FetchLike;
  private readonly storage: PositionStorage | null;
  private readonly storageKey: string;
  private readonly merge: Merge;
  private readonly watchdog: Watchdog;
  private readonly poller: Poller;
  private readonly pollOptions: ResolvedPollOptions;

  private state: LiveState = {
    status: 'connecting',
    polling: false,
    attempt: 0,
    lastError: null,
    lastEventAt: null,
  };
  private readonly stateListeners = new Set<(state: LiveState) => void>();
  private readonly emitter: Emitter;
  private readonly tokens: TokenProvider;
  private readonly types = new Set<string>();

  private started = false;
  private closed = false;
  private stream: StreamContext | null = null;
  private connectSeq = 0;
  private reconnectTimer: unknown = null;
  private stableTimer: unknown = null;
  private gapTimer: unknown = null;
  private saveQueued = false;
  private etag: { value: string; cursor: string | null } | null = null;
  private unsubscribeOnline: (() => void) | null = null;
  /** A poll sent to learn why a stream failed when the transport could not say. */
  private probe: Promise<void> | null = null;

  constructor(private readonly options: LiveClientOptions) {
    this.env = resolveEnvironment(environmentOf(options));
    this.emitter = new Emitter(options.onHandlerError ?? ((error) => console.error(error)));
    this.tokens = new TokenProvider(options.token, this.env.now);
    const channels = [...new Set(options.channels)];
    if (channels.length === 0) throw new TandemError('bad_request', 'at least one channel is required');
    for (const channel of channels) assertChannel(channel);
    this.channels = channels;
    this.streamUrl = endpoint(options.url, 'stream', channels);
    this.pollUrl = endpoint(options.url, 'poll', channels);
    this.backoff = resolveBackoff(options.backoff);
    this.doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.transport = this.resolveTransport();
    this.storage = options.storage === undefined ? defaultStorage() : options.storage;
    this.storageKey = options.storageKey ?? positionsKey(options.url, channels);
    const initial = options.cursor
      ? positionsFromCursor(options.cursor, channels)
      : loadPositions(this.storage, this.storageKey, channels);
    for (const type of options.eventTypes ?? []) this.types.add(type);

    this.merge = new Merge(channels, (event) => this.deliver(event), initial);
    this.watchdog = createWatchdog(this.env, options.watchdog ?? {}, (silentMs) =>
      this.onStreamClosed(
        this.stream,
        new TandemError('timeout', `no data from the server for ${silentMs} ms`),
      ),
    );
    this.pollOptions = resolvePoll(options.poll);
    this.poller = createPoller(
      this.env,
      this.pollOptions,
      () => this.state.status === 'open',
      () => this.pollOnce(),
      () => this.updatePolling(),
    );
    if (options.autoStart !== false) this.start();
  }

  private resolveTransport(): Transport {
    const choice = this.options.transport ?? 'fetch';
    if (typeof choice === 'function') return choice;
    if (choice === 'eventsource') {
      return eventSourceTransport({
        EventSource: this.options.EventSource,
        tokenIn: this.options.tokenIn,
        withCredentials: this.options.credentials === 'include',
      });
    }
    return fetchTransport({ fetch: this.doFetch, credentials: this.options.credentials });
  }

  // ---- public surface -------------------------------------------------------------------

  on<K extends keyof E & string>(type: K, handler: EventHandler<E[K]>): () => void {
    const off = this.emitter.on(type, handler as (data: unknown, meta: EventMeta) => void);
    if (!this.types.has(type)) {
      this.types.add(type);
      this.stream?.connection?.listen?.(type);
    }
    return off;
  }

  onAny(handler: (type: keyof E & string, data: E[keyof E], meta: EventMeta) => void): () => void {
    return this.emitter.onAny(handler as (type: string, data: unknown, meta: EventMeta) => void);
  }

  onResync(handler: ResyncHandler): () => void {
    return this.emitter.onResync(handler);
  }

  subscribeState(listener: (state: LiveState) => void): () => void {
    this.stateListeners.add(listener);
    return () => void this.stateListeners.delete(listener);
  }

  getState(): LiveState {
    return this.state;
  }

  getPositions(): Record<string, Position> {
    return this.merge.positions();
  }

  getCursor(): string | null {
    const positions = this.merge.positions();
    return cursorOf(this.channels, (channel) => positions[channel]);
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.setState({ status: 'connecting' });
    void this.connect();
    this.poller.start();
    // Back online: a retry waiting out its backoff goes now (the poller polls at once too).
    this.unsubscribeOnline = this.env.online.subscribe((online) => {
      if (online && this.reconnectTimer !== null && !this.closed) void this.connect();
    });
  }

  pollNow(): Promise<void> {
    return this.poller.pollNow();
  }

  reconnect(): void {
    if (!this.started || this.closed) return;
    this.dropStream();
    this.setState({ status: 'reconnecting' });
    void this.connect();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropStream();
    this.poller.stop();
    this.unsubscribeOnline?.();
    this.unsubscribeOnline = null;
    this.clearTimer('reconnectTimer');
    this.clearTimer('gapTimer');
    this.save();
    this.setState({ status: 'closed', polling: false });
  }

  // ---- state ------------------------------------------------------------------------------

  private setState(patch: Partial<LiveState>): void {
    let changed = false;
    for (const key of Object.keys(patch) as Array<keyof LiveState>) {
      if (this.state[key] !== patch[key]) changed = true;
    }
    if (!changed) return;
    this.state = { ...this.state, ...patch };
    for (const listener of this.stateListeners) listener(this.state);
  }

  private updatePolling(): void {
    if (this.closed) return;
    this.setState({ polling: this.poller.inFlight || this.state.status !== 'open' });
  }

  private clearTimer(name: 'reconnectTimer' | 'stableTimer' | 'gapTimer'): void {
    const timer = this[name];
    if (timer !== null) this.env.timers.clearTimeout(timer);
    this[name] = null;
  }

  // ---- stream -----------------------------------------------------------------------------

  private dropStream(): void {
    const ctx = this.stream;
    this.stream = null;
    this.watchdog.stop();
    this.clearTimer('stableTimer');
    ctx?.connection?.close();
  }

  private async connect(): Promise<void> {
    const seq = ++this.connectSeq;
    this.clearTimer('reconnectTimer');
    const ctx: StreamContext = { connection: null, snapshot: new Map(), unrecovered: new Map(), open: false };
    this.stream = ctx;
    // Watch from the first moment: a connect that hangs (a black-holed SYN) is silence too.
    this.watchdog.start();
    let token: string | null;
    try {
      token = await this.tokens.get();
    } catch (cause) {
      if (seq === this.connectSeq) {
        this.onStreamClosed(ctx, new TandemError('unauthorized', 'the token provider failed', { cause }));
      }
      return;
    }
    if (seq !== this.connectSeq || this.closed || this.stream !== ctx) return;
    // The cursor is the client's own merged positions, so events the poller already brought
    // are not replayed a second time by the stream.
    ctx.snapshot = this.merge.snapshot();
    const cursor = cursorOf(this.channels, (channel) => ctx.snapshot.get(channel)?.position);
    try {
      ctx.connection = this.openTransport(ctx, cursor, token);
    } catch (cause) {
      this.onStreamClosed(
        ctx,
        new TandemError('network', 'the transport could not open the stream', { cause }),
      );
    }
  }

  private openTransport(ctx: StreamContext, cursor: string | null, token: string | null): StreamConnection {
    return this.transport(
      { url: this.streamUrl, cursor, token, types: this.types },
      {
        onOpen: () => {
          if (this.stream === ctx) this.watchdog.touch();
        },
        onActivity: () => {
          if (this.stream === ctx) this.watchdog.touch();
        },
        onEvent: (event) => {
          if (this.stream === ctx) this.onStreamEvent(ctx, event);
        },
        onClose: (error) => this.onStreamClosed(ctx, error),
      },
    );
  }

  private onStreamEvent(ctx: StreamContext, event: ParsedEvent): void {
    switch (event.type) {
      case CONTROL_EVENTS.hello:
        this.onHello(ctx, parseJson<HelloPayload>(event.data));
        return;
      case CONTROL_EVENTS.ping:
        return;
      case CONTROL_EVENTS.resync:
        this.onResyncReport(parseJson<ResyncPayload>(event.data), ctx.snapshot, ctx.unrecovered);
        ctx.unrecovered.clear();
        return;
      case CONTROL_EVENTS.bye:
        this.onBye(ctx, parseJson<ByePayload>(event.data));
        return;
    }
    const envelope = parseJson<EventEnvelope>(event.data);
    if (!envelope || typeof envelope.channel !== 'string' || !Number.isSafeInteger(envelope.offset)) return;
    ctx.unrecovered.clear();
    this.accept({ ...envelope, type: event.type, source: 'stream' }, ctx.snapshot);
  }

  private onHello(ctx: StreamContext, hello: HelloPayload | null): void {
    if (!hello) return;
    this.watchdog.setHeartbeat(hello.heartbeatMs);
    for (const [channel, info] of Object.entries(hello.channels ?? {})) {
      if (!info.recovered && ctx.snapshot.get(channel)?.position) {
        ctx.unrecovered.set(channel, { epoch: info.epoch, offset: info.head });
      } else {
        this.merge.learn(channel, info, ctx.snapshot);
      }
    }
    ctx.open = true;
    this.setState({ status: 'open' });
    this.updatePolling();
    this.poller.reschedule();
    this.clearTimer('stableTimer');
    this.stableTimer = this.env.timers.setTimeout(() => {
      this.stableTimer = null;
      if (this.stream === ctx) this.setState({ attempt: 0, lastError: null });
    }, this.backoff.stableAfterMs);
    this.queueSave();
  }

  private onBye(ctx: StreamContext, bye: ByePayload | null): void {
    const reason = bye?.reason ?? 'server_closed';
    if (reason === 'token_expired') this.tokens.invalidate();
    const error = new TandemError(
      reason === 'token_expired' ? 'token_expired' : reason === 'shutdown' ? 'shutting_down' : 'network',
      `the server ended the stream (${reason})`,
    );
    // A bye reaches every client of a server at once: spread the returns.
    const window = bye?.reconnectMs ?? this.backoff.dropWindowMs;
    this.retryAfter(ctx, error, jittered(window, this.backoff, this.env.random));
  }

  private onStreamClosed(ctx: StreamContext | null, error: TandemError): void {
    if (!ctx || this.stream !== ctx || this.closed) return;
    if (isAuthError(error)) this.tokens.invalidate();
    if (isFatal(error)) {
      this.fail(error);
      return;
    }
    // A browser's EventSource hides the status of a refused stream: a poll answers with it, so a
    // 403 stops the client after one more request instead of a retry loop.
    if (!ctx.open && error.status === undefined && this.options.transport === 'eventsource') {
      this.probe = this.poller.pollNow();
    }
    const attempt = this.state.attempt;
    let delay: number;
    if (error.code === 'timeout') {
      delay = 0; // the watchdog's verdict: reconnect at once
    } else if (error.retryAfterMs !== undefined) {
      delay = error.retryAfterMs + backoffDelay(attempt, this.backoff, this.env.random);
    } else if (ctx.open && attempt === 0) {
      // A stable stream dropped: likely every client of this server at the same instant.
      delay = jittered(this.backoff.dropWindowMs, this.backoff, this.env.random);
    } else {
      delay = backoffDelay(attempt, this.backoff, this.env.random);
    }
    this.retryAfter(ctx, error, delay);
  }

  private retryAfter(ctx: StreamContext, error: TandemError, delay: number): void {
    if (this.stream !== ctx || this.closed) return;
    this.dropStream();
    this.setState({ status: 'reconnecting', attempt: this.state.attempt + 1, lastError: error });
    this.updatePolling();
    this.poller.reschedule();
    this.reconnectTimer = this.env.timers.setTimeout(() => {
      const probe = this.probe ?? Promise.resolve();
      void probe.then(() => {
        this.reconnectTimer = null;
        this.probe = null;
        if (!this.closed && !this.stream) void this.connect();
      });
    }, delay);
  }

  /** 400/403: retrying cannot help. Stop everything and keep the error in the state. */
  private fail(error: TandemError): void {
    if (this.closed) return;
    this.close();
    this.setState({ lastError: error });
  }

  // ---- delivery ---------------------------------------------------------------------------

  private accept(event: IncomingEvent, snapshot?: Snapshot): void {
    const result = this.merge.accept(event, snapshot);
    if (result === 'held' || result === 'foreign') this.requestFollowUpPoll();
    if (result === 'delivered') this.queueSave();
  }

  private deliver(event: IncomingEvent): void {
    this.setState({ lastEventAt: this.env.now() });
    this.emitter.emit(event);
  }

  private onResyncReport(
    payload: ResyncPayload | null,
    snapshot: Snapshot,
    adoptFrom?: Map<string, Position>,
  ): void {
    if (!payload || !Array.isArray(payload.channels)) return;
    const channels = this.merge.resync(payload.channels, snapshot, adoptFrom, payload.reason);
    this.queueSave();
    if (channels.length === 0) return;
    this.emitter.emitResync(channels, payload.reason);
  }

  /**
   * Polls again shortly, outside the schedule: events past a hole are held until a poll (from
   * the client's position) fills it, and a capped poll answer leaves the rest for the next one.
   */
  private requestFollowUpPoll(): void {
    if (this.gapTimer !== null || this.closed) return;
    this.gapTimer = this.env.timers.setTimeout(() => {
      this.gapTimer = null;
      void this.poller.pollNow();
    }, 50);
  }

  // ---- polling ----------------------------------------------------------------------------

  private async pollOnce(): Promise<number | undefined> {
    if (this.closed) return undefined;
    const token = await this.tokens.get();
    const snapshot = this.merge.snapshot();
    const cursor = cursorOf(this.channels, (channel) => snapshot.get(channel)?.position);
    const outcome = await requestPoll({
      fetch: this.doFetch,
      url: this.pollUrl,
      cursor,
      token,
      ifNoneMatch: this.etag && this.etag.cursor === cursor ? this.etag.value : null,
      credentials: this.options.credentials ?? 'same-origin',
      timeoutMs: this.pollOptions.timeoutMs,
      timers: this.env.timers,
      now: this.env.now,
    });
    if (this.closed || outcome.kind === 'not_modified') return undefined;
    if (outcome.kind === 'error') {
      const { error } = outcome;
      if (isFatal(error)) this.fail(error);
      else if (isAuthError(error)) this.tokens.invalidate();
      return error.retryAfterMs === undefined ? undefined : this.env.now() + error.retryAfterMs;
    }
    this.applyPoll(outcome.body, snapshot);
    this.etag = outcome.etag ? { value: outcome.etag, cursor: this.getCursor() } : null;
    // The server caps one answer (maxPollEvents); the rest follows the new cursor at once.
    if (outcome.body.more === true) this.requestFollowUpPoll();
    return undefined;
  }

  private applyPoll(body: PollResponse, snapshot: Snapshot): void {
    const after = decodeCursor(body.cursor, this.channels).positions;
    const events = Array.isArray(body.events) ? body.events : [];
    if (body.resync && Array.isArray(body.resync.channels)) {
      // A resynced channel continues from just before the first event returned for it.
      const adoptFrom = new Map<string, Position>();
      for (const channel of body.resync.channels) {
        const first = events.find((e) => e.channel === channel);
        const position = first ? { epoch: first.epoch, offset: first.offset - 1 } : after.get(channel);
        if (position) adoptFrom.set(channel, position);
      }
      this.onResyncReport(body.resync, snapshot, adoptFrom);
    }
    for (const event of events) this.accept({ ...event, source: 'poll' });
    for (const channel of this.channels) {
      const position = after.get(channel);
      const info = body.channels?.[channel];
      if (position) this.merge.learn(channel, { epoch: position.epoch, head: position.offset }, snapshot);
      else if (info) this.merge.learn(channel, info, snapshot);
    }
    this.queueSave();
  }

  // ---- persistence ------------------------------------------------------------------------

  private queueSave(): void {
    if (this.saveQueued || !this.storage) return;
    this.saveQueued = true;
    queueMicrotask(() => this.save());
  }

  private save(): void {
    this.saveQueued = false;
    savePositions(this.storage, this.storageKey, this.merge.positions());
  }
}

function parseJson<T>(text: string): T | null {
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}
