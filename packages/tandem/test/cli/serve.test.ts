import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { openRaw } from '../server/sse-reader';
import { runTandem, type ServeProcess } from './serve-process';

const SECRET = 'a-test-secret-of-enough-length-for-hs256-tokens';
const KEY = 'publish-key-for-the-serve-test';

const running: ServeProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});

function start(env: Record<string, string>, args: string[] = []): ServeProcess {
  const process = runTandem(['serve', ...args], { PORT: '0', HOST: '127.0.0.1', ...env });
  running.push(process);
  return process;
}

function token(claims: Record<string, unknown>) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice')
    .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
    .sign(new TextEncoder().encode(SECRET));
}

async function publish(url: string, body: unknown, bearer = KEY) {
  const response = await fetch(`${url}/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('tandem serve', () => {
  it('refuses to start without subscriber auth, naming the variables, and opens only when told to', async () => {
    const refused = start({});
    expect(await refused.exited).toBe(2);
    expect(refused.output()).toContain('TANDEM_SECRET');
    expect(refused.output()).toContain('TANDEM_JWKS_URL');

    const open = start({ TANDEM_ALLOW_ANONYMOUS: '1' });
    const url = await open.started();
    expect(open.lines.find((line) => line.msg === 'anonymous')).toMatchObject({ level: 'warn' });
    expect((await fetch(`${url}/poll?channels=news`)).status).toBe(200);
  });

  it('refuses a bad setting, naming it, with exit code 2', async () => {
    const cases = [
      [{ TANDEM_SECRET: SECRET, PORT: 'eighty' }, [], 'PORT'],
      [{ TANDEM_SECRET: 'short' }, [], 'TANDEM_SECRET'],
      [{ TANDEM_SECRET: SECRET }, ['--retention-ms', '-5'], '--retention-ms'],
      [{ TANDEM_SECRET: SECRET }, ['--colour'], '--colour'],
      // Checked by createHub, and reported as a setting too.
      [{ TANDEM_SECRET: SECRET, TANDEM_MAX_EVENT_BYTES: '99999999' }, [], 'maxEventBytes'],
    ] as const;
    const runs = cases.map(([env, args]) => start(env, [...args]));
    for (const [i, run] of runs.entries()) {
      expect(await run.exited, run.output()).toBe(2);
      expect(run.output()).toContain(cases[i]![2]);
    }
  });

  it('lists every variable and flag in --help', async () => {
    const help = runTandem(['serve', '--help']);
    expect(await help.exited).toBe(0);
    for (const name of [
      'PORT',
      'HOST',
      'TANDEM_SECRET',
      'TANDEM_JWKS_URL',
      'TANDEM_PUBLISH_KEYS',
      'REDIS_URL',
      'TANDEM_CORS_ORIGINS',
      '--allow-anonymous',
      '--publish-keys',
    ]) {
      expect(help.output()).toContain(name);
    }
  });

  it('serves streams to tokens and publishes by key or publisher token; logs no secret', async () => {
    const serve = start({ TANDEM_SECRET: SECRET, TANDEM_PUBLISH_KEYS: `old-key,${KEY}` });
    const url = await serve.started();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/poll?channels=orders`)).status).toBe(401);

    const stream = await openRaw(`${url}/stream?channels=orders`, {
      authorization: `Bearer ${await token({ channels: ['orders'] })}`,
    });
    try {
      await stream.next((event) => event.type === 'tandem:hello');
      expect((await publish(url, { channel: 'orders', type: 'created', data: { id: 1 } })).status).toBe(200);
      const publisher = await token({ publish: ['orders'] });
      expect(
        (await publish(url, { channel: 'orders', type: 'created', data: { id: 2 } }, publisher)).status,
      ).toBe(200);
      expect((await publish(url, { channel: 'billing', type: 'x', data: 1 }, publisher)).status).toBe(403);
      await expect.poll(() => stream.appEvents().map((e) => (e.data as { id: number }).id)).toEqual([1, 2]);
    } finally {
      stream.close();
    }
    const logged = serve.output();
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(KEY);
    expect(serve.lines.find((line) => line.msg === 'config')).toMatchObject({
      broker: { kind: 'memory' },
      publish: { keys: 2, tokens: true },
    });
  });

  it('drains on SIGTERM: every stream gets bye shutdown, then the process exits 0', async () => {
    const serve = start({ TANDEM_ALLOW_ANONYMOUS: '1', TANDEM_CLOSE_TIMEOUT_MS: '3000' });
    const url = await serve.started();
    const streams = await Promise.all([1, 2, 3].map(() => openRaw(`${url}/stream?channels=news`)));
    try {
      await Promise.all(streams.map((s) => s.next((event) => event.type === 'tandem:hello')));
      serve.child.kill('SIGTERM');
      for (const stream of streams) {
        const bye = await stream.next((event) => event.type === 'tandem:bye');
        expect(JSON.parse(bye.data)).toMatchObject({ reason: 'shutdown' });
        await stream.ended;
      }
      expect(await serve.exited).toBe(0);
      expect(serve.lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['shutdown', 'stopped']));
      expect(serve.lines.find((line) => line.msg === 'shutdown')).toMatchObject({
        reason: 'SIGTERM',
        streams: 3,
      });
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});
