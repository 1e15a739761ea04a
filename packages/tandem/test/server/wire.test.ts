/**
 * The stream's bytes on the wire, read from a raw TCP socket: on HTTP/1.1 the hub frames its
 * own chunks and writes them to the socket, so the chunked coding is checked here strictly,
 * including its end and the reuse of the connection afterwards. HTTP/1.0 gets no chunks.
 * Polls and errors carry their length instead of chunks.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createParser, type ParsedEvent, parseCompactData } from '../../src/protocol';
import { createHub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';

/** A raw HTTP/1.x client that keeps every byte the server sent. */
class RawSocket {
  readonly socket: net.Socket;
  private data = Buffer.alloc(0);
  private waiters = new Set<() => void>();
  closed = false;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      for (const wake of [...this.waiters]) wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      for (const wake of [...this.waiters]) wake();
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Everything received since `from`, as latin1. */
  text(from = 0): string {
    return this.data.subarray(from).toString('latin1');
  }

  get length(): number {
    return this.data.length;
  }

  /** Resolves once `done` holds for the bytes received so far. */
  until(done: () => boolean, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve();
        } else if (this.closed) {
          clearTimeout(timer);
          this.waiters.delete(check);
          reject(new Error(`socket closed; received:\n${this.text()}`));
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out; received:\n${this.text()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}

interface Chunked {
  /** The decoded body so far. */
  body: string;
  /** Each chunk's size, as declared. */
  sizes: number[];
  /** Whether the last chunk (size 0) and the final CRLF arrived. */
  ended: boolean;
  /** Bytes of the input the body took, head excluded. */
  used: number;
}

/** Decodes a chunked body strictly: every size line, every CRLF, nothing extra. */
function decodeChunked(bytes: string): Chunked {
  const sizes: number[] = [];
  let body = '';
  let at = 0;
  for (;;) {
    const eol = bytes.indexOf('\r\n', at);
    if (eol < 0) return { body, sizes, ended: false, used: at };
    const line = bytes.slice(at, eol);
    if (!/^[0-9a-f]+$/.test(line)) throw new Error(`bad chunk size line ${JSON.stringify(line)}`);
    const size = Number.parseInt(line, 16);
    if (size === 0) {
      if (bytes.length < eol + 4) return { body, sizes, ended: false, used: at };
      if (bytes.slice(eol + 2, eol + 4) !== '\r\n') throw new Error('no CRLF after the last chunk');
      return { body, sizes, ended: true, used: eol + 4 };
    }
    if (bytes.length < eol + 2 + size + 2) return { body, sizes, ended: false, used: at };
    if (bytes.slice(eol + 2 + size, eol + 4 + size) !== '\r\n') {
      throw new Error(`chunk of ${size} bytes is not followed by CRLF`);
    }
    sizes.push(size);
    body += bytes.slice(eol + 2, eol + 2 + size);
    at = eol + 4 + size;
  }
}

function splitHead(text: string): { head: string; rest: string } | null {
  const end = text.indexOf('\r\n\r\n');
  return end < 0 ? null : { head: text.slice(0, end), rest: text.slice(end + 4) };
}

function eventsOf(body: string): ParsedEvent[] {
  const events: ParsedEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  parser.feed(Buffer.from(body, 'latin1'));
  return events;
}

let srv: HubServer | undefined;
let raw: RawSocket | undefined;
afterEach(async () => {
  raw?.socket.destroy();
  raw = undefined;
  await srv?.close();
  srv = undefined;
});

/**
 * Both wires: the classic frames (envelope JSON) and the compact ones (`?wire=compact`), where
 * the first event of a channel's new log follows a `tandem:epoch` naming it.
 */
const WIRES = [
  { wire: 'classic', query: '', newLog: [], dataOf: (e: ParsedEvent) => JSON.parse(e.data).data },
  {
    wire: 'compact',
    query: '&wire=compact',
    newLog: ['tandem:epoch'],
    dataOf: (e: ParsedEvent) => JSON.parse(parseCompactData(e.data)!.json),
  },
];

describe.each(WIRES)('stream bytes on the wire ($wire)', ({ query, dataOf, newLog }) => {
  it('frames HTTP/1.1 chunks exactly, ends with the last chunk, and leaves the connection reusable', async () => {
    srv = await startHubServer(createHub({ heartbeatMs: 100 }));
    const port = Number(new URL(srv.url).port);
    raw = new RawSocket(port);
    const client = raw;
    client.send(`GET /stream?channels=a${query} HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n`);
    const body = () => {
      const parts = splitHead(client.text());
      return parts ? decodeChunked(parts.rest) : null;
    };
    await client.until(() => (body()?.body ?? '').includes('tandem:hello'));
    const head = splitHead(client.text())!.head;
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toMatch(/\r\ntransfer-encoding: chunked/i);
    expect(head).not.toMatch(/content-length/i);

    // The shared fast path (one event per tick), a batch of two in one tick, and heartbeats.
    await srv.hub.publish('a', 'x', 1);
    await Promise.all([srv.hub.publish('a', 'x', 2), srv.hub.publish('a', 'x', 3)]);
    await client.until(() => {
      const events = eventsOf(body()!.body);
      return (
        events.some((e) => e.type === 'tandem:ping') && events.filter((e) => e.type === 'x').length === 3
      );
    });

    // The hub ends the stream with bye and the last chunk; the socket stays open for a poll.
    expect(srv.hub.disconnect({})).toBe(1);
    await client.until(() => body()!.ended);
    const decoded = body()!;
    const events = eventsOf(decoded.body);
    expect(events.filter((e) => e.type === 'x').map(dataOf)).toEqual([1, 2, 3]);
    expect(events.at(-1)!.type).toBe('tandem:bye');
    expect(decoded.sizes.length).toBeGreaterThanOrEqual(4);
    const streamBytes = splitHead(client.text())!.head.length + 4 + decoded.used;
    expect(client.text().length).toBe(streamBytes);

    client.send('GET /poll?channels=a HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.until(() => splitHead(client.text(streamBytes))?.rest.includes('"more"') === true);
    expect(client.closed).toBe(false);
    expect(splitHead(client.text(streamBytes))!.head).toMatch(/^HTTP\/1\.1 200/);
  });

  it('delivers an event published just before the cut, then the bye, in one complete body', async () => {
    srv = await startHubServer(createHub());
    const port = Number(new URL(srv.url).port);
    raw = new RawSocket(port);
    const client = raw;
    client.send(`GET /stream?channels=a${query} HTTP/1.1\r\nHost: t\r\n\r\n`);
    await client.until(() => client.text().includes('tandem:hello'));
    // Published, then cut right after: the event still reaches the client before the bye.
    void srv.hub.publish('a', 'x', 'queued');
    await new Promise((resolve) => setImmediate(resolve));
    srv.hub.disconnect({});
    await client.until(() => decodeChunked(splitHead(client.text())!.rest).ended);
    const decoded = decodeChunked(splitHead(client.text())!.rest);
    expect(decoded.ended).toBe(true);
    const events = eventsOf(decoded.body);
    expect(events.map((e) => e.type)).toEqual(['tandem:hello', ...newLog, 'x', 'tandem:bye']);
    expect(dataOf(events.at(-2)!)).toBe('queued');
  });
});

describe('stream bytes on the wire', () => {
  it('answers polls and errors with their length, not in chunks, on a reused connection', async () => {
    srv = await startHubServer(createHub());
    raw = new RawSocket(Number(new URL(srv.url).port));
    const client = raw;
    /** The response that starts at byte `from`: head, and a body of exactly Content-Length bytes. */
    const response = (from: number) => {
      const parts = splitHead(client.text(from));
      const length = /\r\ncontent-length: (\d+)/i.exec(parts?.head ?? '');
      if (!parts || !length || Buffer.byteLength(parts.rest, 'latin1') < Number(length[1])) return null;
      const body = Buffer.from(parts.rest, 'latin1').subarray(0, Number(length[1])).toString('utf8');
      return { head: parts.head, body, end: from + parts.head.length + 4 + Number(length[1]) };
    };
    client.send('GET /poll?channels=a HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.until(() => response(0) !== null);
    const start = response(0)!;
    expect(start.head).not.toMatch(/transfer-encoding/i);
    await srv.hub.publish('a', 'x', 'é'); // a multi-byte character: the length is in bytes
    const cursor = encodeURIComponent(JSON.parse(start.body).cursor);
    client.send(`GET /poll?channels=a&cursor=${cursor} HTTP/1.1\r\nHost: t\r\n\r\n`);
    await client.until(() => response(start.end) !== null);
    const poll = response(start.end)!;
    expect(poll.head).toMatch(/^HTTP\/1\.1 200/);
    expect(poll.head).not.toMatch(/transfer-encoding/i);
    expect(JSON.parse(poll.body).events.map((e: { data: unknown }) => e.data)).toEqual(['é']);

    client.send('GET /poll?channels=a,,b HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.until(() => response(poll.end) !== null);
    const error = response(poll.end)!;
    expect(error.head).toMatch(/^HTTP\/1\.1 400/);
    expect(error.head).not.toMatch(/transfer-encoding/i);
    expect(JSON.parse(error.body).error.code).toBeTypeOf('string');
    expect(client.length).toBe(error.end); // nothing after the two bodies
    expect(client.closed).toBe(false);
  });

  it('sends plain bytes to an HTTP/1.0 client and closes the connection at the end', async () => {
    srv = await startHubServer(createHub());
    raw = new RawSocket(Number(new URL(srv.url).port));
    const client = raw;
    client.send('GET /stream?channels=a HTTP/1.0\r\nHost: t\r\n\r\n');
    await client.until(() => client.text().includes('tandem:hello'));
    await srv.hub.publish('a', 'x', 'one');
    await client.until(() => client.text().includes('"one"'));
    srv.hub.disconnect({});
    await client.until(() => client.closed);
    const { head, rest } = splitHead(client.text())!;
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).not.toMatch(/transfer-encoding/i);
    const events = eventsOf(rest);
    expect(events.map((e) => e.type)).toEqual(['tandem:hello', 'x', 'tandem:bye']);
  });
});
