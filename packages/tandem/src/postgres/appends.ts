import type { StoreAppends } from '../broker';
import type { LiveEvent } from '../protocol';
import { parseData } from './codec';
import type { Store } from './store';

/**
 * The store's `append` statement as the broker's `StoreAppends`: one statement (one
 * transaction) stores a batch of a channel's appends, at most one in flight per channel and
 * process (see `OrderedAppends`).
 */
export function storeAppends(store: Store): StoreAppends {
  return async (channel, batch) => {
    const results = await store.append(channel, [...batch]);
    return batch.map((p, i): LiveEvent => {
      const { epoch, offset, ts, repeat } = results[i]!;
      if (!repeat) return { channel, type: p.type, data: p.data, offset, epoch, ts };
      // A key seen before: the first publish's event, as stored.
      const data = repeat.json === undefined ? p.data : parseData(repeat.json);
      return { channel, type: repeat.type, data, offset, epoch, ts };
    });
  };
}
