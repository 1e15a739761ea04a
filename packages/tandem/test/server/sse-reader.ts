import http from 'node:http';
import { createParser, type EventEnvelope, type ParsedEvent } from '../../src/protocol';

/** A raw stream client: node:http plus the protocol parser, nothing of the client library. */
export interface RawStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Every event received so far, control events included. */
  events: ParsedEvent[];
  /** Events received, kept or not. */
  readonly count: number;
  /** App events received (not `tandem:`), kept or not. */
  readonly appCount: number;
  /** The latest event received. */
  readonly last: ParsedEvent | undefined;
  /** The last `id:` seen (what an EventSource would send as Last-Event-ID). */
  readonly lastEventId: string;
  /** Resolves with the first event (from index `from`) matching `match`. */
  next(match: (event: ParsedEvent) => boolean, timeoutMs?: number, from?: number): Promise<ParsedEvent>;
  /** App events' envelopes (everything not `tandem:`). */
  appEvents(): (EventEnvelope & { type: string; id: string })[];
  /** Resolves when the server ends the response or the socket closes. */
  ended: Promise<void>;
  /** Stops reading from the socket (a slow consumer). */
  pause(): void;
  /** Reads again after `pause`. */
  resume(): void;
  close(): void;
}

export interface RawOptions {
  /** Keep every event in `events` (default); false only counts them, for long runs. */
  keep?: boolean;
}

export function openRaw(
  url: string,
  headers: Record<string, string> = {},
  options: RawOptions = {},
): Promise<RawStream> {
  const keep = options.keep ?? true;
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } });
    req.once('error', reject);
    req.once('response', (res) => {
      const events: ParsedEvent[] = [];
      const watchers = new Set<() => void>();
      let count = 0;
      let appCount = 0;
      let last: ParsedEvent | undefined;
      const parser = createParser({
        onEvent(event) {
          count++;
          if (!event.type.startsWith('tandem:')) appCount++;
          last = event;
          if (keep) events.push(event);
          for (const watch of [...watchers]) watch();
        },
      });
      let endResolve!: () => void;
      const ended = new Promise<void>((r) => {
        endResolve = r;
      });
      res.on('data', (chunk: Buffer) => parser.feed(chunk));
      res.on('end', () => endResolve());
      res.on('close', () => {
        endResolve();
        for (const watch of [...watchers]) watch();
      });
      res.on('error', () => endResolve());
      req.on('error', () => endResolve());
      const stream: RawStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        get count() {
          return count;
        },
        get appCount() {
          return appCount;
        },
        get last() {
          return last;
        },
        get lastEventId() {
          return parser.lastEventId;
        },
        next(match, timeoutMs = 5000, from = 0) {
          return new Promise((ok, fail) => {
            let scanned = from;
            const check = () => {
              if (!keep) {
                if (last && match(last)) {
                  cleanup();
                  ok(last);
                }
                return;
              }
              // Each event is looked at once, however often the check runs.
              for (; scanned < events.length; scanned++) {
                const i = scanned;
                if (match(events[i]!)) {
                  cleanup();
                  ok(events[i]!);
                  return;
                }
              }
            };
            const timer = setTimeout(() => {
              cleanup();
              fail(new Error(`no matching event within ${timeoutMs} ms (got ${events.length})`));
            }, timeoutMs);
            const cleanup = () => {
              clearTimeout(timer);
              watchers.delete(check);
            };
            watchers.add(check);
            check();
          });
        },
        appEvents() {
          return events
            .filter((e) => !e.type.startsWith('tandem:'))
            .map((e) => ({ ...(JSON.parse(e.data) as EventEnvelope), type: e.type, id: e.lastEventId }));
        },
        ended,
        pause() {
          res.pause();
        },
        resume() {
          res.resume();
        },
        close() {
          req.destroy();
        },
      };
      resolve(stream);
    });
  });
}

/** GET returning status, headers and the parsed JSON body (or text). */
export async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (e.g. metrics text).
  }
  return { status: response.status, headers: response.headers, body };
}
