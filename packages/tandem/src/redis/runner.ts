import { ErrorReply } from 'redis';
import type { AppendOptions } from '../broker';
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

/** Most data per append script call, in JSON characters (at least one event goes). */
const MAX_BATCH_BYTES = 1_048_576;

interface PendingAppend {
  type: string;
  data: unknown;
  json: string;
  /** The idempotency key, '' for none. */
  key: string;
  resolve(event: LiveEvent): void;
  reject(error: unknown): void;
}

/**
 * Appends in call order. A channel has at most one append script in flight: the appends made
 * meanwhile wait and go together in the next one. Pipelining them instead could reorder them
 * whenever Redis has not cached the script: a call failing with NOSCRIPT and retried would come
 * after calls sent behind it that found the script, loaded meanwhile by its own retry or another
 * process. Batching keeps the throughput of pipelining: the busier a channel, the more events
 * per script call.
 */
export class OrderedAppends {
  private readonly appending = new Map<string, PendingAppend[]>();
  private readonly script = script(APPEND_SCRIPT);

  constructor(
    private readonly run: RunScript,
    private readonly maxEvents: number,
    private readonly feedChannelPrefix: string,
    private readonly idempotencyWindowMs: number,
  ) {}

  append(
    channel: string,
    type: string,
    data: unknown,
    json: string,
    options?: AppendOptions,
  ): Promise<LiveEvent> {
    return new Promise<LiveEvent>((resolve, reject) => {
      const key = options?.idempotencyKey ?? '';
      const pending: PendingAppend = { type, data, json, key, resolve, reject };
      const waiting = this.appending.get(channel);
      if (waiting) {
        waiting.push(pending);
        return;
      }
      this.appending.set(channel, []);
      void this.batch(channel, [pending]);
    });
  }

  private async batch(channel: string, batch: PendingAppend[]): Promise<void> {
    const args = [
      String(this.maxEvents),
      this.feedChannelPrefix + channel,
      String(this.idempotencyWindowMs),
      newLife(),
    ];
    for (const p of batch) args.push(p.type, p.json, p.key);
    try {
      const [epoch, first, ts, repeats] = (await this.run(this.script, channel, args)) as [
        string,
        number,
        number,
        [number, string, string[] | null][],
      ];
      const repeated = new Map(repeats.map(([place, record, fields]) => [place - 1, { record, fields }]));
      let offset = Number(first);
      batch.forEach((p, i) => {
        const repeat = repeated.get(i);
        if (!repeat) {
          p.resolve({ channel, type: p.type, data: p.data, offset: offset++, epoch, ts: Number(ts) });
          return;
        }
        // The first append's event: from the log while it holds it, else rebuilt from its
        // record with this call's type and data (a retry sends the same).
        const [e, o, t] = repeat.record.split(' ') as [string, string, string];
        p.resolve(
          repeat.fields
            ? entryToEvent(channel, e, o, repeat.fields)
            : { channel, type: p.type, data: p.data, offset: Number(o), epoch: e, ts: Number(t) },
        );
      });
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
    const waiting = this.appending.get(channel) ?? [];
    if (waiting.length === 0) {
      this.appending.delete(channel);
      return;
    }
    // At most MAX_BATCH_BYTES of data per script (and at least one event): Redis runs a script
    // alone, so one huge call would hold every other client.
    let bytes = 0;
    let take = 0;
    while (take < waiting.length && (take === 0 || bytes + waiting[take]!.json.length <= MAX_BATCH_BYTES)) {
      bytes += waiting[take]!.json.length;
      take++;
    }
    void this.batch(channel, waiting.splice(0, take));
  }
}
