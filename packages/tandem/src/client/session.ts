import { type HelloPayload, type Position, type ResyncPayload, TandemError, TimerSlot } from '../protocol';
import type { ResolvedBackoffOptions } from './backoff';
import { StreamDecoder, type StreamMessage } from './decode';
import type { Environment } from './environment';
import { HeadsWatch } from './heads-watch';
import type { IncomingEvent, Merge, Snapshot } from './merge';
import type { Poller } from './poller';
import { cursorOf } from './positions';
import { PresenceOnDemand } from './presence-on-demand';
import { byeRetry, isAuthError, retryDecision } from './retry';
import type { StateStore } from './state';
import type { TokenProvider } from './token';
import type { StreamConnection, Transport } from './transports/transport';
import { createWatchdog, type Watchdog, type WatchdogOptions } from './watchdog';

/** One stream connection's context: what it was opened with and what it has said. */
interface StreamContext {
  connection: StreamConnection | null;
  /** The token it was opened with. */
  token: string | null;
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
  /** How long a heartbeat's head may stay unreached before the client polls. */
  readonly headsGraceMs: number;
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
 * How long a stream opened to replace the current one (a new token) may take to say hello
 * before it is given up; the current one carries on meanwhile.
 */
export const HANDOVER_TIMEOUT_MS = 10_000;

/**
 * The stream half of the client: connects with the client's merged positions, watches the
 * connection with the heartbeat watchdog, decodes what arrives, and reconnects with backoff
 * until stopped.
 *
 * Moves between streams without a gap and without leaving `open`: before the token expires it
 * opens a second stream with a new token from the current positions and closes the first once
 * the second has said hello (make before break; the merge drops what both deliver); after a
 * `rotate` bye it comes straight back, and the status changes only if that fails.
 */
export class StreamSession {
  #stream: StreamContext | null = null;
  /** The stream that will replace `stream` once it says hello (a token refresh). */
  #next: StreamContext | null = null;
  #running = false;
  #connectSeq = 0;
  /** A retry is waiting for the network to come back rather than on a timer. */
  #offlineWait = false;
  readonly #reconnectTimer: TimerSlot;
  readonly #stableTimer: TimerSlot;
  readonly #refreshTimer: TimerSlot;
  readonly #handoverTimer: TimerSlot;
  readonly #watchdog: Watchdog;
  /** Polls when a heartbeat shows a head this client has not reached. */
  readonly #heads: HeadsWatch;
  /** A poll sent to learn why a stream failed when the transport could not say. */
  #probe: Promise<void> | null = null;

  readonly #host: SessionHost;

  /** Who is on each channel, from the stream's `tandem:presence`. */
  readonly presence: PresenceOnDemand;

  constructor(host: SessionHost) {
    this.#host = host;
    this.presence = new PresenceOnDemand(host.state);
    this.#reconnectTimer = new TimerSlot(host.env.timers);
    this.#stableTimer = new TimerSlot(host.env.timers);
    this.#refreshTimer = new TimerSlot(host.env.timers);
    this.#handoverTimer = new TimerSlot(host.env.timers);
    this.#heads = new HeadsWatch(
      host.env.timers,
      host.headsGraceMs,
      () => host.merge.positions(),
      () => {
        void host.poller.pollNow();
      },
    );
    this.#watchdog = createWatchdog(host.env, host.watchdog, (silentMs) =>
      this.#closed(this.#stream, new TandemError('timeout', `no data from the server for ${silentMs} ms`)),
    );
  }

  /** Whether a reconnect is waiting out its delay or for the network. */
  get waiting(): boolean {
    return this.#reconnectTimer.pending || this.#offlineWait;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#connect();
  }

  stop(): void {
    this.#running = false;
    this.#connectSeq++;
    this.#drop();
    this.#reconnectTimer.clear();
    this.#offlineWait = false;
    this.#probe = null;
  }

  /** Drops the current stream (if any) and connects again at once. */
  reconnect(): void {
    if (!this.#running) return;
    this.#drop();
    this.#host.state.set({ status: 'reconnecting' });
    void this.#connect();
  }

  /** A new event type to listen for on the open stream. */
  listen(type: string): void {
    this.#stream?.connection?.listen?.(type);
  }

  #drop(): void {
    const ctx = this.#stream;
    this.#stream = null;
    this.#watchdog.stop();
    this.#heads.stop();
    this.#stableTimer.clear();
    this.#refreshTimer.clear();
    ctx?.connection?.close();
    this.#dropNext();
  }

  #dropNext(): void {
    const next = this.#next;
    this.#next = null;
    this.#handoverTimer.clear();
    next?.connection?.close();
  }

  async #connect(): Promise<void> {
    const seq = ++this.#connectSeq;
    this.#reconnectTimer.clear();
    this.#offlineWait = false;
    const ctx = newContext();
    this.#stream = ctx;
    // Watch from the first moment: a connect that hangs (a black-holed SYN) is silence too.
    this.#watchdog.start();
    let token: string | null;
    try {
      token = await this.#host.tokens.get();
    } catch (error) {
      if (seq === this.#connectSeq) this.#closed(ctx, error as TandemError);
      return;
    }
    if (seq !== this.#connectSeq || !this.#running || this.#stream !== ctx) return;
    this.#open(ctx, token);
  }

  /** Opens `ctx`'s connection from the client's current positions. */
  #open(ctx: StreamContext, token: string | null): void {
    ctx.token = token;
    // The cursor is the client's own merged positions, so events the poller already brought
    // are not replayed a second time by the stream.
    ctx.snapshot = this.#host.merge.snapshot();
    const cursor = cursorOf(this.#host.channels, (channel) => ctx.snapshot.get(channel)?.position);
    // One per stream: it reads the classic frames, or the compact ones once the hello says so.
    const decoder = new StreamDecoder();
    try {
      ctx.connection = this.#host.transport(
        { url: this.#host.streamUrl, cursor, token, types: this.#host.types },
        {
          onOpen: () => {
            if (this.#stream === ctx) this.#watchdog.touch();
          },
          onActivity: () => {
            if (this.#stream === ctx) this.#watchdog.touch();
          },
          onEvent: (event) => {
            if (this.#stream === ctx || this.#next === ctx) this.#message(ctx, decoder.decode(event));
          },
          onClose: (error) => this.#closed(ctx, error),
        },
      );
    } catch (cause) {
      this.#closed(ctx, new TandemError('network', 'the transport could not open the stream', { cause }));
    }
  }

  /**
   * Make before break: a second stream with a new token (`reason: 'expiry'`) from the current
   * positions; the first is closed when the second says hello. If the new token or stream
   * fails, the first carries on: at expiry the server ends it and the usual path takes over.
   */
  async #handover(): Promise<void> {
    const current = this.#stream;
    if (!this.#running || !current?.open || this.#next) return;
    const seq = this.#connectSeq;
    let token: string | null;
    try {
      token = await this.#host.tokens.refresh();
    } catch {
      return;
    }
    if (!this.#running || seq !== this.#connectSeq || this.#stream !== current || this.#next) return;
    // The same token again (the provider cannot renew it): a new stream would gain nothing.
    if (token === current.token) return;
    const next = newContext();
    this.#next = next;
    this.#handoverTimer.set(HANDOVER_TIMEOUT_MS, () => {
      if (this.#next === next) this.#dropNext();
    });
    this.#open(next, token);
  }

  /**
   * The current stream ended on purpose (`rotate`, or it was about to be replaced): go on with
   * the replacement if one is opening, else connect at once. The status stays `open` unless
   * the new stream fails.
   */
  #comeBack(): void {
    const next = this.#next;
    if (!next) {
      this.#drop();
      void this.#connect();
      return;
    }
    this.#next = null;
    this.#handoverTimer.clear();
    this.#drop();
    this.#connectSeq++;
    this.#stream = next;
    this.#watchdog.start();
  }

  #message(ctx: StreamContext, message: StreamMessage): void {
    switch (message.kind) {
      case 'hello':
        if (ctx === this.#next) this.#promote(ctx);
        this.#hello(ctx, message.hello);
        return;
      case 'resync':
        this.#host.resync(message.resync, ctx.snapshot, ctx.unrecovered);
        ctx.unrecovered.clear();
        return;
      case 'bye': {
        if (ctx !== this.#stream) return;
        const reason = message.bye?.reason;
        if (reason === 'token_expired') {
          this.#host.tokens.invalidate();
          // Expected, not a failure: come back at once with a new token (if the provider can
          // give one) without leaving `open`; a refused token then takes the 401 path.
          if (this.#next || this.#host.tokens.refreshable) {
            this.#comeBack();
            return;
          }
        }
        if (reason === 'rotate') {
          this.#comeBack();
          return;
        }
        const { error, delayMs } = byeRetry(message.bye, this.#host.backoff, this.#host.env.random);
        this.#retryAfter(ctx, error, delayMs);
        return;
      }
      case 'event':
        ctx.unrecovered.clear();
        this.#host.accept(message.event, ctx.snapshot);
        return;
      case 'ping':
        this.#heads.heard(message.heads);
        return;
      case 'presence':
        this.presence.apply(message.presence);
        return;
      case 'invalid':
        return;
    }
  }

  /** The replacement stream said hello: it becomes the stream, and the old one is closed. */
  #promote(next: StreamContext): void {
    const old = this.#stream;
    this.#next = null;
    this.#handoverTimer.clear();
    this.#stream = next;
    old?.connection?.close();
    this.#watchdog.start();
  }

  #hello(ctx: StreamContext, hello: HelloPayload): void {
    const host = this.#host;
    host.tokens.accepted();
    if (typeof hello.expiresInMs === 'number') host.tokens.expiresIn(hello.expiresInMs);
    this.#scheduleRefresh();
    this.#watchdog.setHeartbeat(hello.heartbeatMs);
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
    this.#stableTimer.set(host.backoff.stableAfterMs, () => {
      if (this.#stream === ctx) host.state.set({ attempt: 0, lastError: null });
    });
    host.changed();
  }

  /** Before the token expires, move to a new stream with a new one. */
  #scheduleRefresh(): void {
    const { tokens, env } = this.#host;
    const at = tokens.refreshAt;
    if (at === null || !tokens.refreshable) {
      this.#refreshTimer.clear();
      return;
    }
    this.#refreshTimer.set(Math.max(0, at - env.now()), () => void this.#handover());
  }

  #closed(ctx: StreamContext | null, error: TandemError): void {
    if (ctx && ctx === this.#next) {
      // The replacement failed: the current stream carries on.
      if (isAuthError(error)) this.#host.tokens.invalidate(error);
      this.#dropNext();
      return;
    }
    if (!ctx || this.#stream !== ctx || !this.#running) return;
    if (this.#next && ctx.open) {
      // The old stream dropped while its replacement opens: go on with the replacement.
      this.#comeBack();
      return;
    }
    const host = this.#host;
    if (isAuthError(error)) host.tokens.invalidate(error);
    const decision = retryDecision(
      error,
      { attempt: host.state.get().attempt, wasOpen: ctx.open, pause: host.tokens.pause() },
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
      this.#probe = host.poller.pollNow();
    }
    this.#retryAfter(ctx, decision.error ?? error, decision.delayMs);
  }

  #retryAfter(ctx: StreamContext, error: TandemError, delayMs: number): void {
    if (this.#stream !== ctx || !this.#running) return;
    const host = this.#host;
    this.#drop();
    host.state.set({ status: 'reconnecting', attempt: host.state.get().attempt + 1, lastError: error });
    host.updatePolling();
    host.poller.reschedule();
    if (!host.env.online.get()) {
      // Offline: no futile attempts; `online()` reconnects at once when the network returns.
      this.#offlineWait = true;
      return;
    }
    const seq = this.#connectSeq;
    this.#reconnectTimer.set(delayMs, () => {
      const probe = this.#probe ?? Promise.resolve();
      void probe.then(() => {
        this.#probe = null;
        if (this.#running && !this.#stream && seq === this.#connectSeq) void this.#connect();
      });
    });
  }

  /** The platform went offline: the stream cannot last, so it ends now and waits for `online`. */
  offline(): void {
    if (this.#running && this.#stream) {
      this.#closed(this.#stream, new TandemError('network', 'the network is offline'));
    }
  }

  /** Back online: a retry waiting out its backoff, or for the network, goes now. */
  online(): void {
    if (this.#running && (this.#reconnectTimer.pending || this.#offlineWait)) void this.#connect();
  }
}

function newContext(): StreamContext {
  return { connection: null, token: null, snapshot: new Map(), unrecovered: new Map(), open: false };
}
