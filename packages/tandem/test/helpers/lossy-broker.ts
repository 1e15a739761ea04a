import { type Broker, memoryBroker } from '../../src/broker';
import type { LiveEvent } from '../../src/protocol';

/**
 * A memory broker whose live feed silently loses the notifications of chosen offsets: the
 * event is in the log, but no subscriber hears of it (what a lost pub/sub message does).
 */
export function lossyBroker(lose: (event: LiveEvent) => boolean): Broker {
  const inner = memoryBroker();
  return {
    append: (...args) => inner.append(...args),
    info: (channel) => inner.info(channel),
    read: (...args) => inner.read(...args),
    subscribe: (channel, listener) =>
      inner.subscribe(channel, (event) => {
        if (!lose(event)) listener(event);
      }),
    close: () => inner.close(),
  };
}
