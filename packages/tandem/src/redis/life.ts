/**
 * The life of a Redis dataset, as the broker tells one from the next.
 *
 * A client that saw a channel with no log holds offset 0 of an empty epoch, and must get the
 * channel's first log from offset 1 without a resync, but only if that log really is the first
 * since the look. Once Redis has lost everything (`FLUSHALL`, a restart without persistence, a
 * failover to an empty replica), the log the client finds may be a second one, the first lost
 * with its events, and nothing about that channel shows it: its keys went with the loss. So
 * the evidence lives beside the logs, in one marker key per prefix (`<prefix>:life`, a random
 * id and the run id of the Redis process that made it) that Redis loses together with them:
 *
 * - the broker checks the marker first thing whenever its connection comes up (it writes;
 *   reads still create nothing), and the append script whenever it creates a log: missing,
 *   or made by another Redis process (a restart or a failover, which may have lost the last
 *   writes even with persistence), it is made anew;
 * - every log's epoch starts with the marker it was created under;
 * - an empty epoch carries the marker the look found as its source, or `NO_LIFE` if none;
 * - a log continues an empty epoch only if its epoch starts with that marker (and it was
 *   created within `idleTtlMs` after the look, see `emptyContinues`). After a loss the marker
 *   is a new random id, so a cursor from before is recognisably stale and gets `resync`.
 *
 * A look that finds no marker (Redis lost it and nobody wrote since) cannot tell what the next
 * log follows, so that client resyncs once the channel has a log: safe, and rare. So does one
 * that looked before a restart, even one that lost nothing: the cost of one refetch, once.
 *
 * One marker per prefix rather than per channel: a per-channel key is lost with the channel's
 * log, so it cannot tell a channel that was never published from one whose log was lost, and
 * a read may not create one. The marker is the only key outside a channel's hash slot; on a
 * Redis Cluster each shard would need its own.
 *
 * The id has 4 base-36 characters, all an empty epoch has room for: a loss goes unseen only
 * when the new id equals the old one, once in 1.7 million losses.
 */
import { type ChannelInfo, emptyContinues } from '../broker';
import { newEpoch, parseEmptyEpoch } from '../protocol';

/** The source of an empty epoch read when Redis had no marker: it continues into no log. */
export const NO_LIFE = '0000';
/** The source the broker's empty epochs had before markers, never a marker either. */
const OLD_SOURCE = 'r000';
/** Length of a marker: the source of an empty epoch. */
const LIFE_LENGTH = 4;

/** A new random marker. */
export function newLife(): string {
  for (;;) {
    const life = newEpoch().slice(0, LIFE_LENGTH);
    if (life !== NO_LIFE && life !== OLD_SOURCE) return life;
  }
}

/** `Broker.continues` for the Redis broker: same life, and created soon enough after the look. */
export function lifeContinues(empty: string, log: ChannelInfo, idleTtlMs: number): boolean {
  const seen = parseEmptyEpoch(empty);
  if (!seen || seen.source === NO_LIFE || !log.epoch.startsWith(seen.source)) return false;
  return emptyContinues(empty, log, seen.source, idleTtlMs);
}
