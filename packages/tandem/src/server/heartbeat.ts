import type { PingHead, PingPayload } from '../protocol';
import type { Connection } from './connection';
import { pingFrame } from './encode';
import { SharedBytes } from './sink';

/** Every stream hears its channels' heads at least this often, however busy it is. */
export const HEADS_EVERY_MS = 10_000;

/**
 * Beats between two heads of a busy stream: at most five, and at most `HEADS_EVERY_MS`
 * (five 2 s beats by default; a beat longer than that sends them every beat).
 */
export function headsEveryBeats(heartbeatMs: number): number {
  return Math.max(1, Math.min(5, Math.floor(HEADS_EVERY_MS / heartbeatMs)));
}

/**
 * The `tandem:ping` frames of one beat, one per channel set, each built on first use and shared
 * by every stream on that set: ten thousand streams of one channel make one JSON and one Buffer.
 */
export class PingFrames {
  private readonly frames = new Map<string, SharedBytes>();

  constructor(
    private readonly now: number,
    private readonly head: (channel: string) => PingHead | undefined,
  ) {}

  for(channels: readonly string[]): SharedBytes {
    // Commas never occur in channel names.
    const key = channels.length === 1 ? channels[0]! : channels.join(',');
    let frame = this.frames.get(key);
    if (!frame) {
      const heads: NonNullable<PingPayload['heads']> = {};
      let known = false;
      for (const channel of channels) {
        const head = this.head(channel);
        if (!head) continue;
        heads[channel] = head;
        known = true;
      }
      frame = new SharedBytes(() => pingFrame(this.now, known ? heads : undefined));
      this.frames.set(key, frame);
    }
    return frame;
  }
}

/**
 * One beat of the hub's heartbeat. A live stream that wrote nothing since the last beat gets a
 * ping (any byte keeps the client's watchdog quiet, so a busy stream needs none); every ping
 * carries the heads of the stream's channels, and a stream that stayed busy gets a ping anyway
 * once its last heads are `everyBeats` beats old. A stream still writing its replay gets no ping,
 * and is cut if its client read nothing for two beats (`Connection.replayBeat`).
 */
export function beat(
  connections: Iterable<Connection>,
  beatNo: number,
  everyBeats: number,
  frames: PingFrames,
): void {
  for (const connection of connections) {
    if (connection.state !== 'live') {
      // Still writing its replay: that is traffic enough, unless it stopped moving.
      connection.replayBeat();
      continue;
    }
    if (!connection.active || beatNo - connection.headsBeat >= everyBeats) {
      connection.send(frames.for(connection.channels));
      connection.headsBeat = beatNo;
    }
    connection.active = false;
  }
}
