/**
 * What the Node adapter assumes of Node's `ServerResponse` beyond its documented API. Each
 * assumption is checked here on the running Node version, so that a Node release that changes
 * one fails this test with what to do, instead of corrupting streams or quietly costing memory.
 * `npm test` runs these (with the wire tests) on Node 20, 22 and 24: see node-versions.test.ts.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

const servers: Array<ReturnType<typeof createServer>> = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

interface Observed {
  headerType: string;
  headerStart: string;
  chunkedEncoding: unknown;
  headerSentAfterFirstWrite: unknown;
  queuedAfterFirstWrite: number;
}

/** Serves one response the way SocketSink does and reports what Node did along the way. */
async function serveLikeTheAdapter(): Promise<{ observed: Observed; body: string }> {
  let observed: Observed | undefined;
  const server = createServer((_req, res: ServerResponse) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Transfer-Encoding': 'chunked' });
    const internal = res as unknown as {
      _header?: unknown;
      chunkedEncoding?: unknown;
      _headerSent?: unknown;
      outputData?: unknown[];
    };
    const head = internal._header;
    // The first chunk goes through res.write, which sends the head with it.
    res.write(': first\n\n');
    observed = {
      headerType: typeof head,
      headerStart: typeof head === 'string' ? head.slice(0, 15) : '',
      chunkedEncoding: internal.chunkedEncoding,
      headerSentAfterFirstWrite: internal._headerSent,
      queuedAfterFirstWrite: internal.outputData?.length ?? -1,
    };
    // Later chunks: framed by hand, straight to the socket.
    const text = 'data: direct\n\n';
    res.socket?.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
    res.end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}/`);
  const body = await response.text();
  if (!observed) throw new Error('the handler did not run');
  return { observed, body };
}

const WHAT_TO_DO = (what: string) =>
  `Node ${process.version} changed ${what}. The Node adapter (src/server/node-adapter.ts) relies on it: ` +
  'make createNodeHandler fall back to ResponseSink (plain res.write) on this version, or adapt SocketSink, ' +
  'then run bench S1 and S2 to see what it costs.';

describe(`Node ${process.version}: ServerResponse internals the adapter uses`, () => {
  it('keeps the response head as a string in _header after writeHead (flattenHead replaces it)', async () => {
    const { observed } = await serveLikeTheAdapter();
    expect(observed.headerType, WHAT_TO_DO('how a response stores its head (_header)')).toBe('string');
    expect(observed.headerStart, WHAT_TO_DO('the head kept in _header')).toBe('HTTP/1.1 200 OK');
  });

  it('frames res.write in chunks and queues nothing once the head is out, so socket writes stay in order', async () => {
    const { observed, body } = await serveLikeTheAdapter();
    expect(observed.chunkedEncoding, WHAT_TO_DO('chunked coding under an explicit Transfer-Encoding')).toBe(
      true,
    );
    expect(observed.headerSentAfterFirstWrite, WHAT_TO_DO('when the head is sent (_headerSent)')).toBe(true);
    expect(
      observed.queuedAfterFirstWrite,
      WHAT_TO_DO('what a response queues after its head (outputData)'),
    ).toBe(0);
    expect(body, WHAT_TO_DO('the bytes of a chunked response written partly to its socket')).toBe(
      ': first\n\ndata: direct\n\n',
    );
  });
});
