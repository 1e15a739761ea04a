import type { LiveEvent } from '../protocol';

/** One append waiting for its turn: what a broker's store is given of it. */
export interface QueuedAppend {
  readonly type: string;
  readonly data: unknown;
  /** `data` as JSON. */
  readonly json: string;
  /** The idempotency key, undefined for none. */
  readonly key: string | undefined;
}

/**
 * Stores a batch of one channel's appends in one atomic step (a Redis script, a PostgreSQL
 * statement), in order, and resolves with each one's event (a repeated key: the first append's).
 */
export type StoreAppends = (channel: string, batch: readonly QueuedAppend[]) => Promise<LiveEvent[]>;

interface PendingAppend extends QueuedAppend {
  resolve(event: LiveEvent): void;
  reject(error: unknown): void;
}

/**
 * Most data per batch, in JSON characters (at least one event goes): a store that runs a batch
 * alone (Redis runs a script alone) must not be held by one huge call.
 */
const MAX_BATCH_BYTES = 1_048_576;

/**
 * A process's appends, in call order per channel. A channel has at most one batch in flight;
 * the appends made meanwhile wait and go together in the next one. Sent side by side instead,
 * two calls could take their offsets in either order: a Redis call failing with NOSCRIPT and
 * retried comes after calls sent behind it, two statements on pooled PostgreSQL connections race
 * for the channel's row. Batching keeps the throughput of sending side by side: the busier a
 * channel, the more events per call.
 */
export class OrderedAppends {
  readonly #waiting = new Map<string, PendingAppend[]>();
  readonly #store: StoreAppends;

  constructor(store: StoreAppends) {
    this.#store = store;
  }

  append(channel: string, type: string, data: unknown, json: string, key?: string): Promise<LiveEvent> {
    return new Promise<LiveEvent>((resolve, reject) => {
      const pending: PendingAppend = { type, data, json, key, resolve, reject };
      const queue = this.#waiting.get(channel);
      if (queue) {
        queue.push(pending);
        return;
      }
      this.#waiting.set(channel, []);
      void this.#batch(channel, [pending]);
    });
  }

  async #batch(channel: string, batch: PendingAppend[]): Promise<void> {
    try {
      const events = await this.#store(channel, batch);
      for (const [i, p] of batch.entries()) p.resolve(events[i]!);
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
    const queue = this.#waiting.get(channel) ?? [];
    if (queue.length === 0) {
      this.#waiting.delete(channel);
      return;
    }
    let bytes = 0;
    let take = 0;
    while (take < queue.length && (take === 0 || bytes + queue[take]!.json.length <= MAX_BATCH_BYTES)) {
      bytes += queue[take]!.json.length;
      take++;
    }
    void this.#batch(channel, queue.splice(0, take));
  }
}
