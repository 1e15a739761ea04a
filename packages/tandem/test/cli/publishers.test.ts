import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type TestBrowser } from '../helpers/chromium';
import { clientScript } from '../helpers/tabs';
import { runTandem, type ServeProcess } from './serve-process';

const SECRET = 'the-python-backend-secret-of-enough-length';
const KEY = 'publish-key-of-the-python-backend';
const PUBLISHERS = fileURLToPath(new URL('../../../../examples/publishers/', import.meta.url));

let app: Server;
let appUrl: string;
let serve: ServeProcess;
let hubUrl: string;
let browser: TestBrowser;

beforeAll(async () => {
  // The app's own server (any language): it serves the page, Tandem's client and the token.
  const script = await clientScript();
  app = createServer((req, res) => {
    if (req.url === '/client.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(script);
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><meta charset="utf-8"><title>orders</title><script src="/client.js"></script>');
    }
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  serve = runTandem(['serve'], {
    PORT: '0',
    HOST: '127.0.0.1',
    TANDEM_SECRET: SECRET,
    TANDEM_PUBLISH_KEYS: KEY,
    TANDEM_CORS_ORIGINS: appUrl,
  });
  hubUrl = await serve.started();
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await serve?.kill();
  await new Promise((resolve) => app?.close(resolve));
});

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { env: { PATH: process.env.PATH, TANDEM_URL: hubUrl, TANDEM_PUBLISH_KEY: KEY }, timeout: 30_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

describe('publishers in other languages, through tandem serve', () => {
  it('reach a page in Chromium following the hub with the client and with a native EventSource', async () => {
    // The token the app's backend mints (HS256, a channels claim), as PyJWT does in the docs.
    const token = await new SignJWT({ channels: ['orders'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
      .sign(new TextEncoder().encode(SECRET));
    const page = await browser.context.newPage();
    await page.goto(appUrl);
    await page.evaluate(
      ({ hub, token }) => {
        const w = window as unknown as Record<string, unknown> & {
          Tandem: typeof import('../../src/client');
        };
        const client: number[] = [];
        const native: number[] = [];
        w.client = client;
        w.native = native;
        const live = w.Tandem.createLiveClient({ url: hub, channels: ['orders'], token });
        live.on('order:created', (order) => client.push((order as { id: number }).id));
        live.start();
        w.live = live;
        const source = new EventSource(`${hub}/stream?channels=orders&token=${token}`);
        source.addEventListener('order:created', (event) => native.push(JSON.parse(event.data).data.id));
        source.onopen = () => {
          w.nativeOpen = true;
        };
      },
      { hub: hubUrl, token },
    );
    await expect
      .poll(() =>
        page.evaluate(() => {
          const w = window as unknown as { live: { getState(): { status: string } }; nativeOpen?: boolean };
          return w.live.getState().status === 'open' && w.nativeOpen === true;
        }),
      )
      .toBe(true);

    const first = JSON.parse(
      await run('python3', [`${PUBLISHERS}publish.py`, 'orders', 'order:created', '{"id": 7}', 'order-7']),
    );
    expect(first).toMatchObject({ channel: 'orders', offset: 1 });
    // Run again with the same key (a retry): the same answer, nothing new delivered.
    const again = JSON.parse(
      await run('python3', [`${PUBLISHERS}publish.py`, 'orders', 'order:created', '{"id": 7}', 'order-7']),
    );
    expect(again).toEqual(first);
    const curl = JSON.parse(
      await run('sh', [`${PUBLISHERS}publish.sh`, 'orders', 'order:created', '{"id":8}', 'order-8']),
    );
    expect(curl).toMatchObject({ channel: 'orders', epoch: first.epoch, offset: 2 });

    for (const list of ['client', 'native']) {
      await expect
        .poll(() => page.evaluate((name) => (window as unknown as Record<string, number[]>)[name], list))
        .toEqual([7, 8]);
    }
    await page.close();
  });

  it('refuses a wrong key with the hub error, from the Python publisher', async () => {
    const wrong = new Promise<string>((resolve, reject) => {
      execFile(
        'python3',
        [`${PUBLISHERS}publish.py`, 'orders', 'order:created', '{}'],
        { env: { PATH: process.env.PATH, TANDEM_URL: hubUrl, TANDEM_PUBLISH_KEY: 'wrong' } },
        (error, _stdout, stderr) =>
          error ? resolve(stderr) : reject(new Error('published with a wrong key')),
      );
    });
    expect(await wrong).toContain('HTTP 401');
  });
});
