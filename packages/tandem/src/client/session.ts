import {
  type HelloPayload,
  type ParsedEvent,
  type Position,
  type ResyncPayload,
  TandemError,
  TimerSlot,
} from '../protocol';
import type { ResolvedBackoffOptions } from './backoff';
import { decodeStreamEvent } from './decode';
import type { Environment } from './environment';
import type { IncomingEvent, Merge, Snapshot } from './merge';
import type { Poller } from './poller';
import { cursorOf } from './positions';
import { byeRetry, isAuthError, retryDecision } from './retry';
import type { StateStore } from './state';
import type { TokenProvider } from './token';
import type { StreamConnection, Transport } from './transports/transport';
import { createWatchdog, type Watchdog, type WatchdogOptions } from './watchdog';

/** One stream connection's context: what it was opened with and what it has said. */
interface StreamContext {
  connection: StreamConnection | null;
  snapshot: Snapshot;
  /** Hello positions of channels the server could not resume, for the resync that follows. */
  unrecovered: Map<string, Position>;
  open: boolean;
}

/** What the stream session needs from the client around it. */
export interface SessionHost {
  readonly env: Environment;
  readonly merge: Merge;
  readonly tokens: TokenProvider;
  readonly state: StateStore;
  readonly poller: Poller;
  readonly transport: Transport;
  readonly backoff: ResolvedBackoffOptions;
  readonly channels: readonly string[];
  readonly streamUrl: string;
  readonly watchdog: WatchdogOptions;
  /** Event types the app listens for (for transports that cannot see every type). */
  readonly types: ReadonlySet<string>;
  accept(event: IncomingEvent, snapshot: Snapshot): void;
  resync(payload: ResyncPayload, snapshot: Snapshot, adoptFrom?: Map<string, Position>): void;
  /** Retrying cannot help: stop the client and keep the error. */
  fail(error: TandemError): void;
  /** Positions changed. */
  changed(): void;
  updatePolling(): void;
}

/**
 * The stream half of the client: connects with the client's merged positions, watches the
 * connection with the heartbeat watchdog, decodes what arrives, and reconnects with backoff
 * until stopped.
 */
export class StreamSession {
  private stream: StreamContext | null = null;
  private running = false;
  private connectSeq = 0;
  private readonly reconnectTimer: TimerSlot;
  private readonly stableTimer: TimerSlot;
  private readonly watchdog: Watchdog;
  /** A poll sent to learn why a stream failed when the transport could not say. */
  private probe: Promise<void> | null = null;

  constructor(private readonly host: SessionHost) {
    this.reconnectTimer = new TimerSlot(host.env.timers);
    this.stableTimer = new TimerSlot(host.env.timers);
    this.watchdog = createWatchdog(host.env, host.watchdog, (silentMs) =>
      this.closed(this.stream, new TandemError('timeout', `no data from the server for ${silentMs} ms`)),
    );
  }

  /** Whether a reconnect is waiting out its delay. */
  get waiting(): boolean {
    return this.reconnectTimer.pending;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  stop(): void {
    this.running = false;
    this.connectSeq++;
    this.drop();
    this.reconnectTimer.clear();
    this.probe = null;
  }

  /** Drops the current stream (if any) and connects again at once. */
  reconnect(): void {
    if (!this.running) return;
    this.drop();
    this.host.state.set({ status: 'reconnecting' });
    void this.connect();
  }

  /** A new event type to listen for on the open stream. */
  listen(type: string): void {
    this.stream?.connection?.listen?.(type);
  }

  private drop(): void {
    const ctx = this.stream;
    this.stream = null;
    this.watchdog.stop();
    this.stableTimer.clear();
    ctx?.connection?.close();
  }

  private async connect(): Promise<void> {
    const seq = ++this.connectSeq;
    this.reconnectTimer.clear();
    const ctx: StreamContext = { connection: null, snapshot: new Map(), unrecovered: new Map(), open: false };
    this.stream = ctx;
    // Watch from the first moment: a connect that hangs (a black-holed SYN) is silence too.
    this.watchdog.start();
    let token: string | null;
    try {
      token = await this.host.tokens.get();
    } catch (cause) {
      if (seq === this.connectSeq) {
        this.closed(ctx, new TandemError('unauthorized', 'the token provider failed', { cause }));
      }
      return;
    }
    if (seq !== this.connectSeq || !this.running || this.stream !== ctx) return;
    // The cursor is the client's own merged positions, so events the poller already brought
    // are not replayed a second time by the stream.
    ctx.snapshot = this.host.merge.snapshot();
    const cursor = cursorOf(this.host.channels, (channel) => ctx.snapshot.get(channel)?.position);
    try {
      ctx.connection = this.host.transport(
        { url: this.host.streamUrl, cursor, token, types: this.host.types },
        {
          onOpen: () => {
            if (this.stream === ctx) this.watchdog.touch();
          },
          onActivity: () => {
            if (this.stream === ctx) this.watchdog.touch();
          },
          onEvent: (event) => {
            if (this.stream === ctx) this.message(ctx, event);
          },
          onClose: (error) => this.closed(ctx, error),
        },
      );
    } catch (cause) {
      this.closed(ctx, new TandemError('network', 'the transport could not open the stream', { cause }));
    }
  }

  private message(ctx: StreamContext, event: ParsedEvent): void {
    const message = decodeStreamEvent(event);
    switch (message.kind) {
      case 'hello':
        this.hello(ctx, message.hello);
        return;
      case 'resync':
        this.host.resync(message.resync, ctx.snapshot, ctx.unrecovered);
        ctx.unrecovered.clear();
        return;
      case 'bye': {
        if (message.bye?.reason === 'token_expired') this.host.tokens.invalidate();
        const { error, delayMs } = byeRetry(message.bye, this.host.backoff, this.host.env.random);
        this.retryAfter(ctx, error, delayMs);
        return;
      }
      case 'event':
        ctx.unrecovered.clear();
        this.host.accept(message.event, ctx.snapshot);
        return;
      case 'ping':
      case 'invalid':
        return;
    }
  }

  private hello(ctx: StreamContext, hello: HelloPayload): void {
    const { host } = this;
    this.watchdog.setHeartbeat(hello.heartbeatMs);
    for (const [channel, info] of Object.entries(hello.channels ?? {})) {
      if (!info.recovered && ctx.snapshot.get(channel)?.position) {
        ctx.unrecovered.set(channel, { epoch: info.epoch, offset: info.head });
      } else {
        host.merge.learn(channel, info, ctx.snapshot);
      }
    }
    ctx.open = true;
    host.state.set({ status: 'open' });
    host.updatePolling();
    host.poller.reschedule();
    this.stableTimer.set(host.backoff.stableAfterMs, () => {
      if (this.stream === ctx) host.state.set({ attempt: 0, lastError: null });
    });
    host.changed();
  }

  private closed(ctx: StreamContext | null, error: TandemError): void {
    if (!ctx || this.stream !== ctx || !this.running) return;
    const { host } = this;
    if (isAuthError(error)) host.tokens.invalidate();
    const decision = retryDecision(
      error,
      { attempt: host.state.get().attempt, wasOpen: ctx.open },
      host.backoff,
      host.env.random,
    );
    if (decision.kind === 'stop') {
      host.fail(error);
      return;
    }
    // Some transports (a browser's EventSource) hide the status of a refused stream: a poll
    // answers with it, so a 403 stops the client after one more request instead of a retry loop.
    if (!ctx.open && error.status === undefined && host.transport.seesStatus === false) {
      this.probe = host.poller.pollNow();
    }
    this.retryAfter(ctx, error, decision.delayMs);
  }

  private retryAfter(ctx: StreamContext, error: TandemError, delayMs: number): void {
    if (this.stream !== ctx || !this.running) return;
    const { host } = this;
    this.drop();
    host.state.set({ status: 'reconnecting', attempt: host.state.get().attempt + 1, lastError: error });
    host.updatePolling();
    host.poller.reschedule();
    const seq = this.connectSeq;
    this.reconnectTimer.set(delayMs, () => {
      const probe = this.probe ?? Promise.resolve();
      void probe.then(() => {
        this.probe = null;
        if (this.running && !this.stream && seq === this.connectSeq) void this.connect();
      });
    });
  }

  /** Back online: a retry waiting out its backoff goes now. */
  online(): void {
    if (this.running && this.reconnectTimer.pending) void this.connect();
  }
}
