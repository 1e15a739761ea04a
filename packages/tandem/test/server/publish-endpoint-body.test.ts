import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';

const KEY = 'publish-key-0123456789abcdef';
const TEN_MB = 10 * 1024 * 1024;

let server: HubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Raw HTTP over a socket: what was written when the answer came, and the answer's head. */
function rawPost(port: number, head: string, body: (write: (chunk: Buffer) => boolean) => Promise<void>) {
  return new Promise<{ written: number; response: string }>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let written = 0;
    let response = '';
    let answered = false;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      response += chunk;
      if (!answered && response.includes('\r\n\r\n')) {
        answered = true;
        resolve({ written, response });
        socket.destroy();
      }
    });
    socket.on('error', (error) => {
      // The server may close while we still write: the answer, if any, is what counts.
      if (!answered) reject(error);
    });
    socket.on('connect', () => {
      socket.write(head);
      body((chunk) => {
        if (answered || socket.destroyed) return false;
        written += chunk.length;
        return socket.write(chunk);
      }).catch(() => {});
    });
  });
}

const headOf = (port: number, extra: string) =>
  `POST /publish HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${KEY}\r\n` +
  `Content-Type: application/json\r\n${extra}\r\n`;

describe('the publish request body', () => {
  it('is refused with 413 from its declared length before a byte of it is read', async () => {
    server = await startHubServer(createHub({ publishEndpoint: { keys: [KEY] } }));
    const port = Number(new URL(server.url).port);
    // The body is never sent: the answer must come from the head alone.
    const { written, response } = await rawPost(
      port,
      headOf(port, `Content-Length: ${TEN_MB}\r\n`),
      async () => {},
    );
    expect(written).toBe(0);
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(response.toLowerCase()).toContain('connection: close');
  });

  it('is refused with 413 once a chunked upload passes the bound, long before 10 MB', async () => {
    server = await startHubServer(createHub({ publishEndpoint: { keys: [KEY] } }));
    const port = Number(new URL(server.url).port);
    const chunk = Buffer.from(`10000\r\n${'x'.repeat(0x10000)}\r\n`);
    const { written, response } = await rawPost(
      port,
      headOf(port, 'Transfer-Encoding: chunked\r\n'),
      async (write) => {
        // 160 chunks of 64 KiB: 10 MB, sent only as fast as the server reads.
        for (let i = 0; i < 160; i++) {
          if (!write(chunk)) await new Promise((r) => setTimeout(r, 5));
        }
      },
    );
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    // The 1 MiB bound plus what sits in socket buffers on the way; not the 10 MB.
    expect(written).toBeLessThan(TEN_MB / 2);
  });

  it('is read with the same bound through the Fetch adapter, which stops pulling past it', async () => {
    const hub = createHub({ publishEndpoint: { keys: [KEY], maxBodyBytes: 100_000 } });
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= TEN_MB) return controller.close();
        pulled += 16_384;
        controller.enqueue(new Uint8Array(16_384).fill(0x20));
      },
    });
    try {
      const response = await hub.fetch(
        new Request('http://hub.test/publish', {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body,
          duplex: 'half',
        } as RequestInit),
      );
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ error: { code: 'payload_too_large' } });
      expect(pulled).toBeLessThan(300_000);
    } finally {
      await hub.close();
    }
  });

  it('is read whole when it fits, through the Fetch adapter too', async () => {
    const hub = createHub({ publishEndpoint: { keys: [KEY] } });
    try {
      const response = await hub.fetch(
        new Request('http://hub.test/publish', {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ channel: 'a', type: 't', data: 'é'.repeat(100_000) }),
        }),
      );
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ channel: 'a', offset: 1 });
    } finally {
      await hub.close();
    }
  });
});
