/**
 * Helpers for multi-hub tests: hubs on one Redis in this process or in a child process, and a
 * raw SSE follower that reconnects with its cursor to whichever hub is up, like a client would.
 */
import { fileURLToPath } from 'node:url';
import type { EventEnvelope, HelloPayload, ResyncPayload } from '../../src/protocol';
import { type RedisBroker, redisBroker } from '../../src/redis';
import { createHub } from '../../src/server';
import { type ChildHub, startChildHub } from '../helpers/child-hub';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { sleep } from '../helpers/wait';
import { openRaw, type RawStream } from '../server/sse-reader';

export interface RedisHub extends HubServer {
  broker: RedisBroker;
}

/** A hub on its own `redisBroker` (its own connections), served over HTTP on loopback. */
export async function startRedisHub(url: string, heartbeatMs = 500): Promise<RedisHub> {
  const broker = redisBroker({ url, commandTimeoutMs: 1000 });
  await broker.ready();
  const server = await startHubServer(createHub({ broker, heartbeatMs }));
  return {
    ...server,
    broker,
    async close() {
      await server.close();
      await broker.close();
    },
  };
}

const fixture = fileURLToPath(new URL('./fixtures/hub-process.ts', import.meta.url));

/** A hub on the Redis at `redisUrl` in a child process (so it can be killed with SIGKILL). */
export const startRedisChildHub = (redisUrl: string): Promise<ChildHub> =>
  startChildHub(fixture, { REDIS_URL: redisUrl });

export type Envelope = EventEnvelope & { type: string; id: string };

/**
 * Follows one stream across connections: when a stream ends it reconnects (to the next URL in
 * `urls`, round robin) with the last cursor as `Last-Event-ID`, like an EventSource would.
 */
export class Follower {
  readonly events: Envelope[] = [];
  readonly resyncs: ResyncPayload[] = [];
  readonly hellos: HelloPayload[] = [];
  /** Heartbeats received, over all connections. */
  pings = 0;
  connections = 0;
  #cursor = '';
  #stream: RawStream | undefined;
  #seen = 0;
  #closed = false;
  /** Streams this follower closed on purpose: their end is no reason to reconnect. */
  #dropped = new WeakSet<RawStream>();
  #urls: string[];
  #next = 0;

  constructor(
    urls: string[],
    readonly channels: string,
  ) {
    this.#urls = urls;
  }

  get cursor(): string {
    return this.#stream?.lastEventId || this.#cursor;
  }

  /** Connects to `url` (or the next one in the list) and waits for its hello. */
  async connect(url?: string): Promise<void> {
    const base = url ?? this.#urls[this.#next++ % this.#urls.length]!;
    const headers: Record<string, string> = this.#cursor ? { 'last-event-id': this.#cursor } : {};
    const stream = await openRaw(`${base}/stream?channels=${encodeURIComponent(this.channels)}`, headers);
    if (stream.status !== 200) {
      stream.close();
      throw new Error(`stream answered ${stream.status}`);
    }
    this.#stream = stream;
    this.#seen = 0;
    this.connections++;
    const hello = await stream.next((e) => e.type === 'tandem:hello');
    this.hellos.push(JSON.parse(hello.data) as HelloPayload);
    const collect = () => {
      for (; this.#seen < stream.events.length; this.#seen++) {
        const event = stream.events[this.#seen]!;
        if (event.type === 'tandem:resync') this.resyncs.push(JSON.parse(event.data) as ResyncPayload);
        else if (event.type === 'tandem:ping') this.pings++;
        else if (!event.type.startsWith('tandem:')) {
          this.events.push({
            ...(JSON.parse(event.data) as EventEnvelope),
            type: event.type,
            id: event.lastEventId,
          });
        }
        if (event.lastEventId) this.#cursor = event.lastEventId;
      }
    };
    const poll = setInterval(collect, 2);
    collect();
    stream.ended.then(async () => {
      clearInterval(poll);
      collect();
      if (this.#stream === stream) this.#stream = undefined;
      if (this.#closed || this.#stream || this.#dropped.has(stream)) return;
      await this.#reconnect();
    });
  }

  /** Connects with a given cursor (e.g. one kept from an earlier stream). */
  async connectWithCursor(cursor: string, url?: string): Promise<void> {
    this.#cursor = cursor;
    await this.connect(url);
  }

  /** Resolves once `count` resync events arrived in total. */
  async waitForResyncs(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.resyncs.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} resyncs, got ${this.resyncs.length}`);
      await sleep(5);
    }
  }

  /** Drops the current stream and continues on `url` with the cursor. */
  async moveTo(url: string): Promise<void> {
    const old = this.#stream;
    this.#stream = undefined;
    if (old) {
      this.#dropped.add(old);
      old.close();
      // The collector registered in `connect` runs first, so the cursor is current after this.
      await old.ended;
    }
    await this.connect(url);
  }

  async #reconnect(): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!this.#closed && Date.now() < deadline) {
      try {
        await this.connect();
        return;
      } catch {
        await sleep(50);
      }
    }
  }

  /** Resolves once `count` app events arrived in total. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `expected ${count} events, got ${this.events.length} (${this.resyncs.length} resyncs)`,
        );
      }
      await sleep(5);
    }
  }

  close(): void {
    this.#closed = true;
    this.#stream?.close();
  }
}
