import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../helpers/redis-server';
import { openRaw } from '../server/sse-reader';
import { runTandem, type ServeProcess } from './serve-process';

const KEY = 'publish-key-for-two-instances';

let redis: RedisServer;
const running: ServeProcess[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.kill()));
  await redis?.stop();
});

async function instance(): Promise<string> {
  const serve = runTandem(['serve'], {
    PORT: '0',
    HOST: '127.0.0.1',
    TANDEM_ALLOW_ANONYMOUS: '1',
    TANDEM_PUBLISH_KEYS: KEY,
    REDIS_URL: redis.url,
  });
  running.push(serve);
  return serve.started();
}

async function publish(url: string, body: unknown) {
  const response = await fetch(`${url}/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('tandem serve on one Redis', () => {
  it('forms one hub of two instances, and a retry raced to both appends once', async () => {
    const [a, b] = await Promise.all([instance(), instance()]);
    expect(running[0]!.lines.find((line) => line.msg === 'config')).toMatchObject({
      broker: { kind: 'redis' },
    });
    const stream = await openRaw(`${b}/stream?channels=orders`);
    try {
      await stream.next((event) => event.type === 'tandem:hello');
      expect((await publish(a, { channel: 'orders', type: 'created', data: { id: 1 } })).status).toBe(200);
      await expect.poll(() => stream.appEvents().length).toBe(1);

      // The same retry, ten times to each instance at once: one append, every answer the first's.
      const retry = { channel: 'orders', type: 'created', data: { id: 2 }, idempotencyKey: 'order-2' };
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => publish(i % 2 ? a : b, retry)));
      for (const answer of answers) expect(answer).toEqual({ status: 200, body: answers[0]!.body });
      expect(answers[0]!.body).toMatchObject({ channel: 'orders', offset: 2 });
      expect((await publish(a, { ...retry, idempotencyKey: 'order-3' })).body).toMatchObject({ offset: 3 });
      await expect.poll(() => stream.appEvents().map((e) => e.offset)).toEqual([1, 2, 3]);
    } finally {
      stream.close();
    }
  });

  it('is not ready while Redis is down, and ready again when it is back', async () => {
    const url = await instance();
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    await redis.kill9();
    await expect.poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 10_000 }).toBe(503);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const refused = await publish(url, { channel: 'orders', type: 'created', data: {} });
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'broker_unavailable' } } });
    await redis.restart();
    await expect.poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 15_000 }).toBe(200);
  });
});
