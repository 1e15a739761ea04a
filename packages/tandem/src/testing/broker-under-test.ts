import type { Broker } from '../broker';

/** What the suite asks of a broker for some of its tests; each test opens its own broker. */
export interface BrokerContractSettings {
  /** Pass it to the broker: the retention test sets 800 ms. @default the broker's own */
  retentionMs?: number;
  /** Pass it to the broker: the count test sets 3. @default the broker's own */
  maxEventsPerChannel?: number;
  /** Pass it to the broker: the window test sets 300 ms. @default the broker's own */
  idempotencyWindowMs?: number;
}

/** The broker under test, and the controls the suite needs of it. */
export interface BrokerUnderTest<B extends Broker = Broker> {
  /** Shown in the suite's name: `"myBroker keeps the Broker contract"`. */
  name: string;
  /**
   * A ready broker with these settings (and the defaults for the rest). The suite closes it
   * after its test. Every broker it opens must share one store, as a deployment's hubs do.
   */
  open(settings: BrokerContractSettings): Promise<B>;
  /**
   * Makes the store lose `channel`'s log as its worst failure would (a flush, a restart without
   * persistence, a dropped schema): the suite then checks that the next log is a new epoch and
   * continues no look from before. Live listeners stay subscribed across it, as a deployment's
   * hubs do across a flush. A broker whose store ends with it (the memory broker: its logs are
   * lost only with the process, and its next life is another source) leaves it out.
   */
  loseLog?(broker: B, channel: string): Promise<void>;
}
