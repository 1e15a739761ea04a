import type { TandemError } from '../protocol';
import { decodeCursor, type PollResponse, type Position, type ResyncPayload, TimerSlot } from '../protocol';
import type { Environment } from './environment';
import type { IncomingEvent, Merge, Snapshot } from './merge';
import { requestPoll } from './poll-request';
import type { ResolvedPollOptions } from './poll-schedule';
import { cursorOf } from './positions';
import { isAuthError, isFatal } from './retry';
import { REFUSED_PAUSE_MS, type TokenProvider } from './token';
import type { FetchLike } from './transports/fetch';

/** What the poll path needs from the client around it. */
export interface PollHost {
  readonly env: Environment;
  readonly merge: Merge;
  readonly tokens: TokenProvider;
  readonly channels: readonly string[];
  readonly pollUrl: string;
  readonly fetch: FetchLike;
  readonly credentials: RequestCredentials;
  readonly poll: ResolvedPollOptions;
  accept(event: IncomingEvent, snapshot?: Snapshot): void;
  resync(payload: ResyncPayload, snapshot: Snapshot, adoptFrom?: Map<string, Position>): void;
  fail(error: TandemError): void;
  changed(): void;
  /** Polls now (through the poller, so that polls never overlap). */
  pollNow(): Promise<void>;
  readonly stopped: boolean;
}

/**
 * The poll half of the client: one `/poll` from the merged positions (with `If-None-Match`
 * while the cursor has not moved), its events merged, its positions adopted, and a follow-up
 * poll when the answer was capped or an event arrived past a hole.
 */
export class PollPath {
  #etag: { value: string; cursor: string | null } | null = null;
  readonly #followUp: TimerSlot;

  readonly #host: PollHost;

  constructor(host: PollHost) {
    this.#host = host;
    this.#followUp = new TimerSlot(host.env.timers);
  }

  /** One poll; resolves with the earliest time the server allows the next (`Retry-After`), or nothing. */
  async once(): Promise<number | undefined> {
    const host = this.#host;
    if (host.stopped) return undefined;
    // Refused again and again: no poll while paused. The stream's attempt at the pause's end
    // speaks for both; the poller looks again one pause later, and goes if nothing was refused.
    const pause = host.tokens.pause();
    if (pause) return host.env.now() + pause.retryAfterMs! + REFUSED_PAUSE_MS;
    const token = await host.tokens.get();
    const snapshot = host.merge.snapshot();
    const cursor = this.#cursor(snapshot);
    const outcome = await requestPoll({
      fetch: host.fetch,
      url: host.pollUrl,
      cursor,
      token,
      ifNoneMatch: this.#etag && this.#etag.cursor === cursor ? this.#etag.value : null,
      credentials: host.credentials,
      timeoutMs: host.poll.timeoutMs,
      timers: host.env.timers,
      now: host.env.now,
    });
    if (host.stopped || outcome.kind === 'not_modified') return undefined;
    if (outcome.kind === 'error') {
      const { error } = outcome;
      if (isFatal(error)) host.fail(error);
      else if (isAuthError(error)) host.tokens.invalidate(error);
      return error.retryAfterMs === undefined ? undefined : host.env.now() + error.retryAfterMs;
    }
    host.tokens.accepted();
    this.#apply(outcome.body, snapshot);
    this.#etag = outcome.etag ? { value: outcome.etag, cursor: this.#cursor(host.merge.snapshot()) } : null;
    // The server caps one answer; the rest follows the new cursor at once.
    if (outcome.body.more === true) this.requestFollowUp();
    return undefined;
  }

  /**
   * Polls again shortly, outside the schedule: events past a hole are held until a poll (from
   * the client's position) fills it.
   */
  requestFollowUp(): void {
    if (this.#host.stopped) return;
    this.#followUp.setIfIdle(50, () => void this.#host.pollNow());
  }

  stop(): void {
    this.#followUp.clear();
  }

  #cursor(snapshot: Snapshot): string | null {
    return cursorOf(this.#host.channels, (channel) => snapshot.get(channel)?.position);
  }

  #apply(body: PollResponse, snapshot: Snapshot): void {
    const host = this.#host;
    const after = decodeCursor(body.cursor, host.channels).positions;
    const events = Array.isArray(body.events) ? body.events : [];
    if (body.resync && Array.isArray(body.resync.channels)) {
      // A resynced channel continues from just before the first event returned for it.
      const adoptFrom = new Map<string, Position>();
      for (const channel of body.resync.channels) {
        const first = events.find((e) => e.channel === channel);
        const position = first ? { epoch: first.epoch, offset: first.offset - 1 } : after.get(channel);
        if (position) adoptFrom.set(channel, position);
      }
      host.resync(body.resync, snapshot, adoptFrom);
    }
    for (const event of events) host.accept({ ...event, source: 'poll' });
    for (const channel of host.channels) {
      const position = after.get(channel);
      const info = body.channels?.[channel];
      if (position) host.merge.learn(channel, { epoch: position.epoch, head: position.offset }, snapshot);
      else if (info) host.merge.learn(channel, info, snapshot);
    }
    host.changed();
  }
}
