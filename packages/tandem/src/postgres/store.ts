import type { Pool } from 'pg';
import type { ReadResult } from '../broker';
import { emptyEpoch, type LiveEvent } from '../protocol';
import { parseData } from './codec';
import { toTandemError, unavailable } from './errors';

/** One event of a batch handed to `append`. */
interface AppendItem {
  type: string;
  json: string;
  key: string | undefined;
}

/** What `append` made of one item: a new event, or the stored one its key already made. */
export interface Appended {
  epoch: string;
  offset: number;
  ts: number;
  /** The key was seen: the stored event's type and data JSON (undefined once trimmed). */
  repeat?: { type: string; json: string | undefined };
}

interface ReadOptions {
  after: number;
  /** -1: all. */
  limit: number;
  maxBytes: number | undefined;
  /** Read from the start of the log when its epoch is not this one. */
  expect: string | undefined;
}

interface ReadRow {
  r_epoch: string | null;
  r_head: string;
  r_oldest: string;
  r_created: string;
  r_now: string;
  r_source: string;
  r_offset: string | null;
  r_ts: string | null;
  r_type: string | null;
  r_data: string | null;
}

/** The hub's statements, one round trip each, on the schema `s` (quoted); failures as TandemErrors. */
export class Store {
  constructor(
    private readonly pool: Pool,
    private readonly s: string,
    private readonly settings: {
      retentionMs: number;
      maxEvents: number;
      idleTtlMs: number;
      windowMs: number;
    },
    /** The schema, or a table or function of it, is gone (dropped): it must be created again. */
    private readonly schemaMissing: () => void,
  ) {}

  async query<R extends object>(text: string, values: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query<R>(text, values)).rows;
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === '3F000' || code === '42P01' || code === '42883') {
        this.schemaMissing();
        throw unavailable(error);
      }
      throw toTandemError(error);
    }
  }

  async append(channel: string, items: AppendItem[]): Promise<Appended[]> {
    const rows = await this.query<{
      r_epoch: string;
      r_offset: string;
      r_ts: string;
      r_repeat: boolean;
      r_type: string;
      r_data: string | null;
    }>(`select * from ${this.s}.append($1, $2::text[], $3::json[], $4::text[], $5)`, [
      channel,
      items.map((i) => i.type),
      items.map((i) => i.json),
      items.map((i) => i.key ?? null),
      this.settings.windowMs,
    ]);
    return rows.map((row) => ({
      epoch: row.r_epoch,
      offset: Number(row.r_offset),
      ts: Number(row.r_ts),
      ...(row.r_repeat ? { repeat: { type: row.r_type, json: row.r_data ?? undefined } } : {}),
    }));
  }

  async read(channel: string, options: ReadOptions): Promise<ReadResult> {
    const { retentionMs, maxEvents } = this.settings;
    const rows = await this.query<ReadRow>(`select * from ${this.s}.read($1, $2, $3, $4, $5, $6, $7)`, [
      channel,
      options.after,
      options.limit,
      options.maxBytes ?? null,
      retentionMs,
      maxEvents,
      options.expect ?? null,
    ]);
    const first = rows[0]!;
    // No log: the channel reads as empty, under an epoch that names when it was seen so.
    if (first.r_epoch === null) {
      return { epoch: emptyEpoch(first.r_source, Number(first.r_now)), head: 0, oldest: 1, events: [] };
    }
    const epoch = first.r_epoch;
    const events: LiveEvent[] = [];
    for (const row of rows) {
      if (row.r_offset === null) continue;
      events.push({
        channel,
        epoch,
        offset: Number(row.r_offset),
        ts: Number(row.r_ts),
        type: row.r_type!,
        data: parseData(row.r_data!),
      });
    }
    return {
      epoch,
      head: Number(first.r_head),
      oldest: Number(first.r_oldest),
      created: Number(first.r_created),
      events,
    };
  }

  /** The source of this schema's empty epochs. */
  async source(): Promise<string> {
    const rows = await this.query<{ source: string }>(`select source from ${this.s}.meta`, []);
    return rows[0]!.source;
  }

  async heads(channels: string[]): Promise<{ epoch: string | undefined; head: number }[]> {
    const rows = await this.query<{ r_channel: string; r_epoch: string; r_head: string }>(
      `select * from ${this.s}.heads($1::text[], $2)`,
      [channels, this.settings.idleTtlMs],
    );
    const found = new Map(rows.map((r) => [r.r_channel, { epoch: r.r_epoch, head: Number(r.r_head) }]));
    return channels.map((channel) => found.get(channel) ?? { epoch: undefined, head: 0 });
  }

  async rewind(channel: string, epoch: string, last: number): Promise<void> {
    await this.query(`select ${this.s}.rewind($1, $2, $3)`, [channel, epoch, last]);
  }

  /** One batch of retention; resolves with the rows deleted. */
  async sweep(batch: number): Promise<number> {
    const { retentionMs, maxEvents, idleTtlMs } = this.settings;
    const rows = await this.query<{ deleted: string }>(`select ${this.s}.sweep($1, $2, $3, $4) as deleted`, [
      retentionMs,
      maxEvents,
      idleTtlMs,
      batch,
    ]);
    return Number(rows[0]?.deleted ?? 0);
  }
}
