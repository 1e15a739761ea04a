import type { PresenceEntry, PresenceRecord, PresenceStore } from '../broker';
import {
  channelMatches,
  PRESENCE_EVENT,
  type PresencePayload,
  type PresenceView,
  TandemError,
  type TimerHandle,
} from '../protocol';
import type { Connection } from './connection';
import { controlFrame } from './encode';
import type { ServerEnvironment } from './environment';
import type { PresenceSettings } from './presence-options';
import { presenceInfo, presenceView } from './presence-view';

/** A stream with presence: its channels, and whether its entries are in the store yet. */
interface Member {
  channels: string[];
  entry: PresenceEntry;
  stored: boolean;
  ended: boolean;
}

/**
 * A hub's presence: it writes its streams' entries to the broker's store (an ended stream's
 * stay `graceMs` before they go), watches the channels its streams follow, and sends each of
 * them the channel's view when it changed, at most once per `intervalMs`, one frame for all.
 */
export class Presence {
  /** Per channel, its local streams with presence and the view JSON each was last sent. */
  private readonly followers = new Map<string, Map<Connection, string>>();
  private readonly unwatch = new Map<string, () => void>();
  private readonly members = new Map<Connection, Member>();
  /** Ended streams' entries, due to leave in this order (one grace for all: FIFO). */
  private readonly leaving: { due: number; channel: string; id: string }[] = [];
  private leaveTimer: TimerHandle | null = null;
  private readonly dirty = new Set<string>();
  private flushTimer: TimerHandle | null = null;
  private lastFlush = Number.NEGATIVE_INFINITY;
  private refreshTimer: TimerHandle | null = null;
  private warnedInfo = false;
  /** Streams opening together share a read of the channel (a storm of joins on Redis). */
  private readonly reads: SharedReads;
  private stopped = false;

  constructor(
    readonly settings: PresenceSettings,
    private readonly store: PresenceStore,
    private readonly env: ServerEnvironment,
    private readonly reportError: (error: unknown) => void,
  ) {
    this.reads = new SharedReads(store);
  }

  enabled(channel: string): boolean {
    return this.settings.channels.some((pattern) => channelMatches(pattern, channel));
  }

  /** Counts a new stream in; resolves with its first view of each channel, for its prelude. */
  async open(connection: Connection, info: unknown): Promise<Uint8Array[]> {
    const channels = connection.channels.filter((channel) => this.enabled(channel));
    if (channels.length === 0 || this.stopped) return [];
    const entry: PresenceEntry = { connection: connection.id, subject: connection.subject };
    const checked = presenceInfo(info, this.settings.maxInfoBytes);
    if (checked) entry.info = checked;
    else if (checked === null && !this.warnedInfo) {
      this.warnedInfo = true;
      console.warn(
        `[tandem] a grant's presence info is not a JSON object of at most presence.maxInfoBytes (${this.settings.maxInfoBytes}) bytes: it is left out`,
      );
    }
    const member: Member = { channels, entry, stored: false, ended: false };
    this.members.set(connection, member);
    this.armRefresh();
    for (const channel of channels) this.follow(channel, connection);
    await Promise.all(channels.map((channel) => this.store.put(channel, [entry])));
    member.stored = true;
    // It ended while its entries were written: they start their grace now.
    if (member.ended) this.linger(member);
    const after = this.reads.seq;
    const records = await Promise.all(channels.map((channel) => this.reads.read(channel, after)));
    const now = this.env.now();
    return channels.map((channel, i) => {
      const { version, entries } = records[i]!;
      const view = presenceView(entries, now, this.settings.maxMembers);
      const json = JSON.stringify(view);
      this.followers.get(channel)?.set(connection, json);
      return frameOf(channel, version, view, true);
    });
  }

  /** The stream ended: it stops following; its entries leave after the grace. */
  closed(connection: Connection): void {
    const member = this.members.get(connection);
    if (!member) return;
    this.members.delete(connection);
    member.ended = true;
    for (const channel of member.channels) this.unfollow(channel, connection);
    if (member.stored) this.linger(member);
  }

  /** A channel's current view. */
  async view(channel: string): Promise<PresenceView> {
    if (!this.enabled(channel)) {
      throw new TandemError('bad_request', `presence is not enabled for ${channel}`);
    }
    const { entries } = await this.store.read(channel);
    return presenceView(entries, this.env.now(), this.settings.maxMembers);
  }

  /** Streams and channels held, for `hub.stats()`. */
  stats(): { streams: number; channels: number; leaving: number } {
    return { streams: this.members.size, channels: this.followers.size, leaving: this.leaving.length };
  }

  /** The hub closes: its entries leave now (its streams went to other hubs or are gone). */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.flushTimer) this.env.timers.clearTimeout(this.flushTimer);
    if (this.leaveTimer) this.env.timers.clearTimeout(this.leaveTimer);
    if (this.refreshTimer) this.env.timers.clearTimeout(this.refreshTimer);
    for (const off of this.unwatch.values()) off();
    this.unwatch.clear();
    this.followers.clear();
    const byChannel = new Map<string, string[]>();
    const add = (channel: string, id: string) => {
      const ids = byChannel.get(channel);
      if (ids) ids.push(id);
      else byChannel.set(channel, [id]);
    };
    for (const { channel, id } of this.leaving.splice(0)) add(channel, id);
    for (const [, member] of this.members)
      for (const channel of member.channels) add(channel, member.entry.connection);
    this.members.clear();
    await Promise.all([...byChannel].map(([channel, ids]) => this.store.remove(channel, ids))).catch(
      this.reportError,
    );
  }

  private follow(channel: string, connection: Connection): void {
    let streams = this.followers.get(channel);
    if (!streams) {
      streams = new Map();
      this.followers.set(channel, streams);
      this.unwatch.set(
        channel,
        this.store.watch(channel, () => this.changed(channel)),
      );
    }
    streams.set(connection, '');
  }

  private unfollow(channel: string, connection: Connection): void {
    const streams = this.followers.get(channel);
    if (!streams?.delete(connection) || streams.size > 0) return;
    this.followers.delete(channel);
    this.dirty.delete(channel);
    this.unwatch.get(channel)?.();
    this.unwatch.delete(channel);
  }

  /**
   * A store whose entries expire (Redis): every `refreshMs` while the hub holds members, their
   * entries are refreshed, every channel in one round trip.
   */
  private armRefresh(): void {
    const { refreshMs } = this.store;
    if (this.refreshTimer || !refreshMs || this.stopped) return;
    this.refreshTimer = this.env.timers.setTimeout(() => {
      this.refreshTimer = null;
      if (this.members.size === 0) return;
      const live = new Map<string, PresenceEntry[]>();
      for (const member of this.members.values()) {
        if (!member.stored) continue;
        for (const channel of member.channels) {
          const list = live.get(channel);
          if (list) list.push(member.entry);
          else live.set(channel, [member.entry]);
        }
      }
      this.store.refresh?.(live).catch(this.reportError);
      this.armRefresh();
    }, refreshMs);
  }

  private linger(member: Member): void {
    const until = this.env.now() + this.settings.graceMs;
    const entry: PresenceEntry = { ...member.entry, until };
    for (const channel of member.channels) {
      this.store.put(channel, [entry]).catch(this.reportError);
      this.leaving.push({ due: until, channel, id: entry.connection });
    }
    this.armLeaves();
  }

  private armLeaves(): void {
    const next = this.leaving[0];
    if (this.leaveTimer || !next || this.stopped) return;
    this.leaveTimer = this.env.timers.setTimeout(
      () => {
        this.leaveTimer = null;
        const now = this.env.now();
        while (this.leaving[0] && this.leaving[0].due <= now) {
          const { channel, id } = this.leaving.shift()!;
          this.store.remove(channel, [id]).catch(this.reportError);
        }
        this.armLeaves();
      },
      Math.max(0, next.due - this.env.now()),
    );
  }

  /** The store says the channel changed: its view goes out at the next flush. */
  private changed(channel: string): void {
    if (this.stopped || !this.followers.has(channel)) return;
    this.dirty.add(channel);
    if (this.flushTimer) return;
    const wait = Math.max(0, this.lastFlush + this.settings.intervalMs - this.env.now());
    this.flushTimer = this.env.timers.setTimeout(() => {
      this.flushTimer = null;
      this.flush().catch(this.reportError);
    }, wait);
  }

  private async flush(): Promise<void> {
    this.lastFlush = this.env.now();
    const channels = [...this.dirty];
    this.dirty.clear();
    const records = await Promise.all(channels.map((channel) => this.store.read(channel)));
    const now = this.env.now();
    channels.forEach((channel, i) => {
      const streams = this.followers.get(channel);
      if (!streams) return;
      const { version, entries } = records[i]!;
      const view = presenceView(entries, now, this.settings.maxMembers);
      const json = JSON.stringify(view);
      let frame: Uint8Array | undefined;
      let waiting = false;
      for (const [connection, sent] of streams) {
        if (sent === json) continue;
        // Still writing its replay (its snapshot is in its prelude): at the next flush.
        if (connection.state !== 'live') {
          waiting = true;
          continue;
        }
        frame ??= frameOf(channel, version, view, false);
        connection.enqueue(frame);
        streams.set(connection, json);
      }
      if (waiting) this.changed(channel);
    });
  }
}

function frameOf(channel: string, version: number, view: PresenceView, snapshot: boolean): Uint8Array {
  const payload: PresencePayload = { channel, version, ...view };
  if (snapshot) payload.snapshot = true;
  return controlFrame(PRESENCE_EVENT, payload);
}

/**
 * Reads of a channel's presence shared by the callers that can take the same one: a read
 * started after a caller's own write includes it, so a stream's snapshot always counts itself.
 */
class SharedReads {
  seq = 0;
  private readonly current = new Map<string, { seq: number; promise: Promise<PresenceRecord> }>();

  constructor(private readonly store: PresenceStore) {}

  /** A read of `channel` started after read number `after`. */
  read(channel: string, after: number): Promise<PresenceRecord> {
    const current = this.current.get(channel);
    if (current && current.seq > after) return current.promise;
    const entry = { seq: ++this.seq, promise: this.store.read(channel) };
    this.current.set(channel, entry);
    const done = () => {
      if (this.current.get(channel) === entry) this.current.delete(channel);
    };
    entry.promise.then(done, done);
    return entry.promise;
  }
}
