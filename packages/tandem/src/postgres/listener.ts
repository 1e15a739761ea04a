import type { Notification, Pool, PoolClient } from 'pg';
import { unavailable } from './errors';

interface ListenerEvents {
  /** A notification's payload, in the order PostgreSQL sent them (commit order). */
  notification(payload: string): void;
  /** LISTEN is in place (again): what was sent while it was not is lost. */
  listening(): void;
  /** The connection is gone: notifications are lost until `listening`. */
  lost(): void;
}

/**
 * The connection that LISTENs: one client taken from the pool and held, since a LISTEN belongs
 * to its session. When it drops (PostgreSQL restarted, the backend terminated, the network
 * gone) it is released as broken and another is taken, with a growing delay, until `close`.
 */
export class Listener {
  #client: PoolClient | undefined;
  #drop: (() => void) | undefined;
  #closed = false;
  #pid: number | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly channel: string,
    private readonly events: ListenerEvents,
  ) {}

  /** The backend pid while listening. */
  get pid(): number | undefined {
    return this.#pid;
  }

  get listening(): boolean {
    return this.#client !== undefined;
  }

  start(): void {
    void this.#run();
  }

  /**
   * A round trip on the listening connection: PostgreSQL sends the notifications committed
   * before it ahead of its reply. A connection that does not answer in `timeoutMs` is dropped.
   */
  async fence(timeoutMs: number): Promise<void> {
    const client = this.#client;
    if (!client) throw unavailable();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#drop?.();
        reject(unavailable());
      }, timeoutMs);
    });
    try {
      await Promise.race([client.query('select 1'), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.#closed = true;
    this.#drop?.();
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch {
        await delay(Math.min(50 * 2 ** failures++, 1000));
        continue;
      }
      let dropped = false;
      const ended = new Promise<void>((resolve) => {
        this.#drop = () => {
          if (dropped) return;
          dropped = true;
          resolve();
        };
      });
      const onError = () => this.#drop?.();
      const onNotification = (message: Notification) => {
        if (message.channel === this.channel && !dropped) this.events.notification(message.payload ?? '');
      };
      client.on('error', onError);
      client.on('end', onError);
      client.on('notification', onNotification);
      try {
        await client.query(`LISTEN "${this.channel}"`);
        const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
        if (!dropped && !this.#closed) {
          failures = 0;
          this.#client = client;
          this.#pid = rows[0]?.pid;
          this.events.listening();
        }
      } catch {
        this.#drop?.();
      }
      if (this.#closed) this.#drop?.();
      await ended;
      const wasListening = this.#client === client;
      this.#client = undefined;
      this.#pid = undefined;
      client.off('notification', onNotification);
      client.off('end', onError);
      // Released as broken: the pool ends it rather than lending a session that LISTENs.
      client.release(true);
      // An error may still come from the dying socket; keep it handled.
      client.on('error', () => {});
      client.off('error', onError);
      if (wasListening) this.events.lost();
      if (!this.#closed && !wasListening) await delay(Math.min(50 * 2 ** failures++, 1000));
    }
  }
}

const delay = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref?.();
  });
