import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryBroker } from '../../src/broker';
import { jwtPublishAuthorizer } from '../../src/jwt';
import { prometheusMetrics } from '../../src/prometheus';
import { encodeCursor } from '../../src/protocol';
import { createHub, type HubOptions, type PublishResult } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import { getJson, openRaw } from './sse-reader';

const KEY = 'publish-key-one-0123456789';
const NEXT_KEY = 'publish-key-two-9876543210';
const SECRET = 'a-publisher-secret-of-enough-length-for-hs256';

let server: HubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(options: HubOptions = {}): Promise<string> {
  server = await startHubServer(createHub({ publishEndpoint: { keys: [KEY, NEXT_KEY] }, ...options }));
  return server.url;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

async function post(
  url: string,
  body: unknown,
  { key = KEY, type = 'application/json' }: { key?: string | null; type?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': type };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`${url}/publish`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Answer['body'],
  };
}

/** The data of every event retained on `channel` in `epoch`, read by a poll from its start. */
async function retained(url: string, channel: string, epoch: string): Promise<unknown[]> {
  const cursor = encodeCursor([[channel, { epoch, offset: 0 }]]);
  const { body } = await getJson(`${url}/poll?channels=${channel}&cursor=${encodeURIComponent(cursor)}`);
  return (body as { events: { data: unknown }[] }).events.map((event) => event.data);
}

function publisherToken(publish: string[], claims: Record<string, unknown> = {}) {
  return new SignJWT({ publish, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('orders-service')
    .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
    .sign(new TextEncoder().encode(SECRET));
}

describe('POST /publish', () => {
  it('is not served unless configured', async () => {
    server = await startHubServer(createHub());
    const answer = await post(server.url, { channel: 'orders', type: 'created', data: {} });
    expect(answer).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('publishes with a key to the streams of the channel and answers where the event is', async () => {
    const url = await serve();
    const stream = await openRaw(`${url}/stream?channels=orders`);
    try {
      await stream.next((event) => event.type === 'tandem:hello');
      const answer = await post(url, { channel: 'orders', type: 'order:created', data: { id: 7 } });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ channel: 'orders', epoch: expect.any(String), offset: 1 });
      const event = await stream.next((e) => e.type === 'order:created');
      expect(JSON.parse(event.data)).toMatchObject({ offset: 1, data: { id: 7 } });
    } finally {
      stream.close();
    }
  });

  it('accepts every configured key, so a key can be rotated, and nothing else', async () => {
    const url = await serve();
    expect((await post(url, { channel: 'a', type: 't', data: 1 }, { key: NEXT_KEY })).status).toBe(200);
    const wrong = await post(url, { channel: 'a', type: 't', data: 1 }, { key: `${KEY}x` });
    expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    const prefix = await post(url, { channel: 'a', type: 't', data: 1 }, { key: KEY.slice(0, -1) });
    expect(prefix.status).toBe(401);
    const none = await post(url, { channel: 'a', type: 't', data: 1 }, { key: null });
    expect(none).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
  });

  it('never takes the key from the query string or a cookie', async () => {
    const url = await serve();
    const attempts: { path: string; headers: Record<string, string> }[] = [
      { path: `/publish?token=${KEY}`, headers: {} },
      { path: '/publish', headers: { cookie: `tandem_token=${KEY}` } },
    ];
    for (const init of attempts) {
      const response = await fetch(`${url}${init.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...init.headers },
        body: JSON.stringify({ channel: 'a', type: 't', data: 1 }),
      });
      expect(response.status).toBe(401);
    }
  });

  it('publishes by a JWT grant, only to the channels of its publish claim', async () => {
    const url = await serve({
      publishEndpoint: { authorize: jwtPublishAuthorizer({ secret: SECRET }) },
    });
    const token = await publisherToken(['orders/*']);
    expect((await post(url, { channel: 'orders/eu', type: 't', data: 1 }, { key: token })).status).toBe(200);
    const outside = await post(url, { channel: 'billing', type: 't', data: 1 }, { key: token });
    expect(outside).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(outside.body.error!.message).toContain('billing');
    // A subscriber's token names channels to read, not to publish to.
    const reader = await new SignJWT({ channels: ['**'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
      .sign(new TextEncoder().encode(SECRET));
    expect((await post(url, { channel: 'orders/eu', type: 't', data: 1 }, { key: reader })).status).toBe(403);
    const forged = `${token.slice(0, -2)}xx`;
    expect((await post(url, { channel: 'orders/eu', type: 't', data: 1 }, { key: forged })).status).toBe(401);
  });

  it('answers a cross-origin preflight for POST with its JSON body and Authorization', async () => {
    const url = await serve({ cors: { origin: 'https://app.example' } });
    const preflight = await fetch(`${url}/publish`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    const other = await fetch(`${url}/publish`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example' },
    });
    expect(other.headers.get('access-control-allow-methods')).toBeNull();
  });

  it('refuses a whole batch with one channel outside the grant, publishing none of it', async () => {
    const url = await serve({ publishEndpoint: { authorize: () => ['orders/**'] } });
    const answer = await post(url, {
      events: [
        { channel: 'orders/1', type: 't', data: 1 },
        { channel: 'secret', type: 't', data: 2 },
      ],
    });
    expect(answer).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const info = await server!.hub.cursor(['orders/1']);
    expect(info).toMatch(/\.0$/);
  });
});

describe('POST /publish errors', () => {
  it('answers 400 for a body that is not JSON, a bad channel, a reserved or bad type, missing data', async () => {
    const url = await serve();
    const cases: [unknown, string][] = [
      ['{"channel": ', 'not JSON'],
      [{ channel: 'bad channel!', type: 't', data: 1 }, 'channel'],
      [{ channel: 'a', type: 'tandem:hello', data: 1 }, 'reserved'],
      [{ channel: 'a', type: 'evil\r\ndata: x', data: 1 }, ''],
      [{ channel: 'a', type: '', data: 1 }, 'type'],
      [{ channel: 'a', type: 't' }, 'data is missing'],
      [{ channel: 'a', type: 't', data: 1, idempotencyKey: 'k'.repeat(201) }, 'idempotencyKey'],
      [[1, 2], 'object'],
    ];
    for (const [body, message] of cases) {
      const answer = await post(url, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error!.message).toContain(message);
    }
  });

  it('answers 400 for a batch of more than 100 events, or none', async () => {
    const url = await serve();
    const events = Array.from({ length: 101 }, (_, i) => ({ channel: 'a', type: 't', data: i }));
    const answer = await post(url, { events });
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    expect(answer.body.error!.message).toContain('1 to 100');
    expect((await post(url, { events: [] })).status).toBe(400);
  });

  it('answers 415 to anything but application/json', async () => {
    const url = await serve();
    const form = await post(url, 'channel=a&type=t', { type: 'application/x-www-form-urlencoded' });
    expect(form).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } });
    const charset = await post(
      url,
      { channel: 'a', type: 't', data: 1 },
      { type: 'application/json; charset=utf-8' },
    );
    expect(charset.status).toBe(200);
  });

  it('answers 413 to a body over maxBodyBytes and to an event over maxEventBytes', async () => {
    const url = await serve({ publishEndpoint: { keys: [KEY], maxBodyBytes: 10_000 }, maxEventBytes: 1000 });
    const body = await post(url, { channel: 'a', type: 't', data: 'x'.repeat(20_000) });
    expect(body).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect(body.body.error!.message).toContain('maxBodyBytes');
    const event = await post(url, { channel: 'a', type: 't', data: 'x'.repeat(2000) });
    expect(event).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect(event.body.error!.message).toContain('maxEventBytes');
  });

  it('answers 405 with Allow: POST to another method', async () => {
    const url = await serve();
    const response = await fetch(`${url}/publish`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('answers 503 with Retry-After when the broker is unavailable, having appended nothing', async () => {
    const broker = memoryBroker();
    await broker.close();
    const url = await serve({ broker, retryAfterSeconds: 3 });
    const answer = await post(url, { channel: 'a', type: 't', data: 1 });
    expect(answer).toMatchObject({ status: 503, body: { error: { code: 'broker_unavailable' } } });
    expect(answer.headers.get('retry-after')).toBe('3');
    const batch = await post(url, { events: [{ channel: 'a', type: 't', data: 1 }] });
    expect(batch.status).toBe(503);
  });

  it('refuses bad publishEndpoint options at createHub, naming them', () => {
    expect(() => createHub({ publishEndpoint: {} })).toThrow(/publishEndpoint needs keys or authorize/);
    expect(() => createHub({ publishEndpoint: { keys: [''] } })).toThrow(TypeError);
    expect(() => createHub({ publishEndpoint: { keys: [KEY], maxBodyBytes: 0 } })).toThrow(
      /publishEndpoint.maxBodyBytes/,
    );
  });
});

describe('POST /publish batches and retries', () => {
  it('publishes a batch in order and answers each event in order', async () => {
    const url = await serve();
    const events = Array.from({ length: 100 }, (_, i) => ({
      channel: i % 2 ? 'odd' : 'even',
      type: 'n',
      data: i,
    }));
    const answer = await post(url, { events });
    expect(answer.status).toBe(200);
    const results = answer.body.results as { channel: string; offset: number }[];
    expect(results.map((r) => [r.channel, r.offset])).toEqual(
      events.map((e, i) => [e.channel, Math.floor(i / 2) + 1]),
    );
    const epoch = (results[1] as unknown as { epoch: string }).epoch;
    expect(await retained(url, 'odd', epoch)).toEqual(events.filter((_, i) => i % 2).map((e) => e.data));
  });

  it('is not atomic: a refused event gets its error, the others are published', async () => {
    const url = await serve();
    const answer = await post(url, {
      events: [
        { channel: 'a', type: 'ok', data: 1 },
        { channel: 'a', type: 'tandem:bye', data: 2 },
        { channel: 'a', type: 'ok', data: 3 },
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.results).toEqual([
      { channel: 'a', epoch: expect.any(String), offset: 1 },
      { error: { code: 'bad_request', message: expect.stringContaining('reserved') } },
      { channel: 'a', epoch: expect.any(String), offset: 2 },
    ]);
  });

  it('answers a retry with the same idempotency key with the first position, delivering nothing new', async () => {
    const url = await serve();
    const stream = await openRaw(`${url}/stream?channels=orders`);
    try {
      await stream.next((event) => event.type === 'tandem:hello');
      const body = { channel: 'orders', type: 'order:created', data: { id: 1 }, idempotencyKey: 'order-1' };
      const first = await post(url, body);
      const retries = await Promise.all(Array.from({ length: 10 }, () => post(url, body)));
      for (const retry of retries) expect(retry).toMatchObject({ status: 200, body: first.body });
      // Another key, and the same key on another channel, are new events.
      const other = await post(url, { ...body, idempotencyKey: 'order-2' });
      expect(other.body.offset).toBe(2);
      const elsewhere = await post(url, { ...body, channel: 'invoices' });
      expect(elsewhere.body.offset).toBe(1);
      const batch = await post(url, { events: [body, { ...body, idempotencyKey: 'order-3' }] });
      expect((batch.body.results as { offset: number }[]).map((r) => r.offset)).toEqual([1, 3]);
      await expect.poll(() => stream.appEvents().length).toBe(3);
      expect(stream.appEvents().map((e) => e.offset)).toEqual([1, 2, 3]);
      expect(await retained(url, 'orders', first.body.epoch as string)).toHaveLength(3);
    } finally {
      stream.close();
    }
  });

  it('counts publish requests by outcome', async () => {
    const results: PublishResult[] = [];
    const url = await serve({ metrics: { publishAnswered: (result) => results.push(result) } });
    await post(url, { channel: 'a', type: 't', data: 1 });
    await post(url, { channel: 'a', type: 't', data: 1 }, { key: 'nope' });
    await post(url, {
      events: [
        { channel: 'a', type: 't', data: 1 },
        { channel: 'a', type: 'tandem:x', data: 1 },
      ],
    });
    await post(url, '{');
    expect(results).toEqual(['ok', 'unauthorized', 'partial', 'bad_request']);
  });

  it('counts them in Prometheus as tandem_publish_requests_total by result', async () => {
    const url = await serve({ metrics: prometheusMetrics(), metricsEndpoint: { authorize: () => true } });
    await post(url, { channel: 'a', type: 't', data: 1 });
    await post(url, { channel: 'a', type: 't', data: 2 });
    await post(url, { channel: 'a', type: 't', data: 1 }, { key: 'nope' });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/^tandem_publish_requests_total\{result="ok"\} 2$/m);
    expect(text).toMatch(/^tandem_publish_requests_total\{result="unauthorized"\} 1$/m);
    expect(text).toMatch(/^tandem_publishes_total 2$/m);
  });
});
