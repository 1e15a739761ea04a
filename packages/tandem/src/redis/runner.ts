import { ErrorReply } from 'redis';
import type { StoreAppends } from '../broker';
import { isTandemError, type LiveEvent, newEpoch } from '../protocol';
import { entryToEvent } from './codec';
import { newLife } from './life';
import { APPEND_SCRIPT, type Script, script } from './scripts';

/** Runs one of the broker's scripts on one channel's keys. */
export type RunScript = (s: Script, channel: string, args: string[], head?: string[]) => Promise<unknown>;

/** The keys a channel's scripts may touch, all in the channel's hash slot but the life marker. */
export function channelKeys(prefix: string, channel: string): string[] {
  const tag = `${prefix}:{${channel}}`;
  return [`${tag}:meta`, `${tag}:log`, `${prefix}:life`, `${tag}:ik`, `${tag}:iv`];
}

/**
 * The script runner: EVALSHA, and EVAL when Redis has not cached the script (first use, after a
 * restart or `SCRIPT FLUSH`). The prologue's arguments (a fresh epoch, retention, idle TTL) are
 * shared by append and read; the rewind guard passes its own.
 */
export function scriptRunner(
  command: (args: string[]) => Promise<unknown>,
  prefix: string,
  retentionMs: number,
  idleTtlMs: number,
): RunScript {
  return async (s, channel, args, head = [newEpoch(), String(retentionMs), String(idleTtlMs)]) => {
    const keys = channelKeys(prefix, channel);
    const tail = [String(keys.length), ...keys, ...head, ...args];
    try {
      return await command(['EVALSHA', s.sha, ...tail]);
    } catch (error) {
      const cause = isTandemError(error) ? error.cause : undefined;
      if (!(cause instanceof ErrorReply) || !cause.message.startsWith('NOSCRIPT')) throw error;
      return command(['EVAL', s.source, ...tail]);
    }
  };
}

/**
 * The append script as the broker's `StoreAppends`: one call stores a batch of a channel's
 * appends (at most one in flight per channel, see `OrderedAppends`), checks their idempotency
 * keys and publishes their notifications.
 */
export function scriptAppends(
  run: RunScript,
  maxEvents: number,
  feedChannelPrefix: string,
  idempotencyWindowMs: number,
): StoreAppends {
  const append = script(APPEND_SCRIPT);
  return async (channel, batch) => {
    const args = [String(maxEvents), feedChannelPrefix + channel, String(idempotencyWindowMs), newLife()];
    for (const p of batch) args.push(p.type, p.json, p.key ?? '');
    const [epoch, first, ts, repeats] = (await run(append, channel, args)) as [
      string,
      number,
      number,
      [number, string, string[] | null][],
    ];
    const repeated = new Map(repeats.map(([place, record, fields]) => [place - 1, { record, fields }]));
    let offset = Number(first);
    return batch.map((p, i): LiveEvent => {
      const repeat = repeated.get(i);
      if (!repeat) return { channel, type: p.type, data: p.data, offset: offset++, epoch, ts: Number(ts) };
      // The first append's event: from the log while it holds it, else rebuilt from its
      // record with this call's type and data (a retry sends the same).
      const [e, o, t] = repeat.record.split(' ') as [string, string, string];
      return repeat.fields
        ? entryToEvent(channel, e, o, repeat.fields)
        : { channel, type: p.type, data: p.data, offset: Number(o), epoch: e, ts: Number(t) };
    });
  };
}
