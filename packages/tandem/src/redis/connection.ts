import { createClient, ErrorReply } from 'redis';
import { isTandemError, TandemError } from '../protocol';
import type { RedisBrokerOptions, RedisClientLike } from './options';

/** Redis replies that mean "not now" rather than "wrong". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|OOM)\b/;

/**
 * The broker's two connections and their life: the command client (the app's, or one of its
 * own without an offline queue, so that a command fails at once while Redis is away) and a
 * RESP2 subscriber that keeps its queue, so that SUBSCRIBE waits for a reconnect.
 */
export class RedisConnection {
  readonly client: RedisClientLike;
  readonly subscriber: RedisClientLike;
  /** Whether the command client was made here (and is closed here). */
  readonly owned: boolean;
  private everReady: boolean;
  private lastError: unknown;
  private closedFlag = false;
  private readonly onError = (error: unknown) => {
    this.lastError = error;
  };
  private readonly onClientReady = () => {
    this.everReady = true;
    this.clientReady();
  };

  constructor(
    options: RedisBrokerOptions,
    private readonly commandTimeoutMs: number,
    /** The command client (re)connected. */
    private readonly clientReady: () => void,
  ) {
    const reconnectStrategy = (retries: number) => Math.min(50 * 2 ** retries, 1000) + Math.random() * 100;
    this.owned = options.client === undefined;
    this.client =
      options.client ??
      (createClient({
        url: options.url,
        disableOfflineQueue: true,
        socket: { reconnectStrategy, connectTimeout: commandTimeoutMs },
      }) as unknown as RedisClientLike);
    this.subscriber = this.client.duplicate({
      disableOfflineQueue: false,
      socket: { reconnectStrategy, connectTimeout: commandTimeoutMs },
    });
    this.everReady = this.client.isReady;
    this.client.on('error', this.onError);
    this.client.on('ready', this.onClientReady);
    this.subscriber.on('error', this.onError);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Whether the command client has been connected once (it then fails fast while away). */
  get ready(): boolean {
    return this.everReady || this.client.isReady;
  }

  unavailable(cause?: unknown): TandemError {
    return new TandemError('broker_unavailable', 'Redis is unreachable', { cause: cause ?? this.lastError });
  }

  /** Waits for the very first connection, at most `commandTimeoutMs`. */
  firstConnection(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('ready', done);
        reject(this.unavailable());
      }, this.commandTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.client.off('ready', done);
        resolve();
      };
      this.client.on('ready', done);
    });
  }

  /**
   * Sends at once (in call order, which the ordered appends rely on) once connected; never
   * queues while Redis is away: the command client has no offline queue, so that fails at once.
   */
  command(args: string[]): Promise<unknown> {
    if (this.closedFlag) return Promise.reject(new TandemError('broker_unavailable', 'the broker is closed'));
    const send = () =>
      this.client.sendCommand(args, { timeout: this.commandTimeoutMs }).catch((error: unknown) => {
        throw this.toTandemError(error);
      });
    return this.ready ? send() : this.firstConnection().then(send);
  }

  private toTandemError(error: unknown): TandemError {
    if (isTandemError(error)) return error;
    if (error instanceof ErrorReply && !TRANSIENT_REPLY.test(error.message)) {
      return new TandemError('internal', `Redis replied: ${error.message}`, { cause: error });
    }
    return this.unavailable(error);
  }

  /** Connects `c` unless it is open; a failure is kept as the last error, not thrown. */
  connect(c: RedisClientLike): Promise<void> {
    if (c.isOpen) return Promise.resolve();
    return c.connect().then(
      () => undefined,
      (error: unknown) => {
        this.lastError = error;
      },
    );
  }

  async close(): Promise<void> {
    this.closedFlag = true;
    this.client.off('error', this.onError);
    this.client.off('ready', this.onClientReady);
    destroy(this.subscriber);
    if (!this.owned) return;
    // Graceful when Redis answers; a dead socket could keep `close()` waiting for replies.
    if (this.client.isReady) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const graceful = this.client.close().then(
        () => true,
        () => false,
      );
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.min(this.commandTimeoutMs, 500));
      });
      const closedGracefully = await Promise.race([graceful, timeout]);
      clearTimeout(timer);
      if (closedGracefully) return;
    }
    destroy(this.client);
  }
}

/** Drops a connection now; node-redis throws when it is already closed. */
function destroy(client: RedisClientLike): void {
  try {
    client.destroy();
  } catch {
    // Already closed.
  }
}
