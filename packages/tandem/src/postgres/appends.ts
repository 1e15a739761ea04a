import type { LiveEvent } from '../protocol';
import { parseData } from './codec';
import type { AppendItem, Store } from './store';

/** Most data per `append` call, in JSON characters (at least one event goes). */
const MAX_BATCH_BYTES = 1_048_576;

interface PendingAppend extends AppendItem {
  data: unknown;
  resolve(event: LiveEvent): void;
  reject(error: unknown): void;
}

/**
 * The hub's appends, in call order per channel. A channel has at most one `append` statement of
 * this process in flight; the appends made meanwhile wait and go together in the next one (one
 * statement, one transaction). Sent on separate pooled connections instead, two calls would race
 * for the channel's row and could take their offsets in either order. Batching keeps the
 * throughput: the busier a channel, the more events per statement.
 */
export class OrderedAppends {
  private readonly waiting = new Map<string, PendingAppend[]>();

  constructor(private readonly store: Store) {}

  append(
    channel: string,
    type: string,
    data: unknown,
    json: string,
    key: string | undefined,
  ): Promise<LiveEvent> {
    return new Promise<LiveEvent>((resolve, reject) => {
      const pending: PendingAppend = { type, data, json, key, resolve, reject };
      const queue = this.waiting.get(channel);
      if (queue) {
        queue.push(pending);
        return;
      }
      this.waiting.set(channel, []);
      void this.batch(channel, [pending]);
    });
  }

  private async batch(channel: string, batch: PendingAppend[]): Promise<void> {
    try {
      const results = await this.store.append(channel, batch);
      batch.forEach((p, i) => {
        const { epoch, offset, ts, repeat } = results[i]!;
        if (!repeat) {
          p.resolve({ channel, type: p.type, data: p.data, offset, epoch, ts });
          return;
        }
        // A key seen before: the first publish's event, as stored.
        const data = repeat.json === undefined ? p.data : parseData(repeat.json);
        p.resolve({ channel, type: repeat.type, data, offset, epoch, ts });
      });
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
    const queue = this.waiting.get(channel) ?? [];
    if (queue.length === 0) {
      this.waiting.delete(channel);
      return;
    }
    let bytes = 0;
    let take = 0;
    while (take < queue.length && (take === 0 || bytes + queue[take]!.json.length <= MAX_BATCH_BYTES)) {
      bytes += queue[take]!.json.length;
      take++;
    }
    void this.batch(channel, queue.splice(0, take));
  }
}
