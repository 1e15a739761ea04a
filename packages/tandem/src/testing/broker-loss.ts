import type { Broker } from '../broker';
import type { LiveEvent } from '../protocol';
import type { BrokerContractSettings, BrokerUnderTest } from './broker-under-test';
import { type ContractTestApi, eventually, freshChannel } from './test-api';

/**
 * The part of the contract a lost log tests: a log made after the loss is a new epoch, and a
 * client that saw the channel (empty, or at the lost log's head) gets `resync`, never the new
 * log's offset 1 as if nothing had been lost. Registered only for a broker that can lose a log.
 */
export function brokerLossContract<B extends Broker>(
  test: ContractTestApi,
  subject: BrokerUnderTest<B>,
  open: (settings?: BrokerContractSettings) => Promise<B>,
): void {
  const { it, expect } = test;
  const loseLog = subject.loseLog?.bind(subject);
  if (!loseLog) return;

  it('starts a new epoch after losing a log, which continues no look from before the loss', async () => {
    const broker = await open();
    const channel = freshChannel('loss');
    const look = await broker.info(channel);
    const lost = await broker.append(channel, 't', 'lost');
    await loseLog(broker, channel);
    // A store that restarts may refuse for a while: the first append it takes is offset 1.
    const after = await eventually(() => broker.append(channel, 't', 'after'));
    expect(after.offset).toBe(1);
    expect(after.epoch === lost.epoch).toBe(false);
    const info = await broker.info(channel);
    expect(info).toMatchObject({ epoch: after.epoch, head: 1, oldest: 1 });
    expect((await broker.read(channel, 0)).events.map((e) => e.data)).toEqual(['after']);
    if (broker.continues) expect(broker.continues(look.epoch, info)).toBe(false);
  });

  it('feeds a live listener the new log with its new epoch after a loss', async () => {
    const broker = await open();
    const channel = freshChannel('loss-live');
    const seen: LiveEvent[] = [];
    const off = broker.subscribe(channel, (event) => seen.push(event));
    const lost = await broker.append(channel, 't', 'lost');
    await eventually(() => expect(seen.map((e) => e.data)).toEqual(['lost']));
    await loseLog(broker, channel);
    const after = await eventually(() => broker.append(channel, 't', 'after'));
    await eventually(() => expect(seen.map((e) => e.data)).toEqual(['lost', 'after']));
    expect(seen[1]).toMatchObject({ epoch: after.epoch, offset: 1 });
    expect(seen[1]?.epoch === lost.epoch).toBe(false);
    off();
  });
}
