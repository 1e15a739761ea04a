import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHub, type HubRequest } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';

/** What the authorize hook saw of each request. */
const seen: { href: string; pathname: string; channels: string | null; token: string | null }[] = [];
let server: HubServer;

beforeAll(async () => {
  const hub = createHub({
    basePath: '/live',
    authorize(request: HubRequest) {
      seen.push({
        href: request.url.href,
        pathname: request.url.pathname,
        channels: request.url.searchParams.get('channels'),
        token: request.token,
      });
      return { subject: 'test', channels: ['**'] };
    },
  });
  server = await startHubServer(hub);
});

afterAll(() => server.close());

/** A GET with the request target sent exactly as written (fetch would normalise it). */
function get(target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(server.url);
    http
      .get({ host: '127.0.0.1', port, path: target, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

describe('the request a hook sees on the Node adapter', () => {
  it('has the URL of a plain request, its query decoded as URLSearchParams decodes it', async () => {
    seen.length = 0;
    expect(await get('/live/poll?channels=tenant%3Aa%2Forders&token=t+1%2B2')).toBe(200);
    expect(seen).toEqual([
      {
        href: `http://localhost/live/poll?channels=tenant%3Aa%2Forders&token=t+1%2B2`,
        pathname: '/live/poll',
        channels: 'tenant:a/orders',
        token: 't 1+2',
      },
    ]);
  });

  it('routes a path with dot segments or escapes as the URL parser reads it', async () => {
    seen.length = 0;
    expect(await get('/live/x/../poll?channels=a')).toBe(200);
    expect(await get('/x/../live/./poll?channels=a')).toBe(200);
    expect(await get('/live/%70oll?channels=a')).toBe(404);
    expect(await get('/live/x/../nothing?channels=a')).toBe(404);
    expect(seen.map((s) => s.pathname)).toEqual(['/live/poll', '/live/poll']);
  });
});
