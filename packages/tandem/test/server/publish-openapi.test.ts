import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryBroker } from '../../src/broker';
import { createHub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';

const DOCUMENT = fileURLToPath(new URL('../../../../docs/publish.openapi.json', import.meta.url));
const KEY = 'publish-key-for-the-openapi-test';

interface OpenApi {
  openapi: string;
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
  components: { schemas: Record<string, unknown> };
}
const document = JSON.parse(readFileSync(DOCUMENT, 'utf8')) as OpenApi;

let server: HubServer;
let down: HubServer;
let off: HubServer;
beforeAll(async () => {
  off = await startHubServer(createHub());
  server = await startHubServer(
    createHub({ publishEndpoint: { keys: [KEY], maxBodyBytes: 10_000 }, maxEventBytes: 1000 }),
  );
  const broker = memoryBroker();
  await broker.close();
  down = await startHubServer(createHub({ broker, publishEndpoint: { keys: [KEY] } }));
});
afterAll(async () => {
  await server?.close();
  await down?.close();
  await off?.close();
});

/** Checks a body against the document's schema for that status of `POST /publish`. */
function matchesDocument(status: number, body: unknown): string[] {
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema({ $id: 'doc', components: document.components });
  const schema =
    document.paths['/publish']!.post!.responses[String(status)]?.content?.['application/json']?.schema;
  if (!schema) return [`no response ${status} in the document`];
  const rewritten = JSON.parse(JSON.stringify(schema).replaceAll('"#/components', '"doc#/components'));
  const validate = ajv.compile(rewritten);
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

async function post(url: string, body: string, headers: Record<string, string> = {}, method = 'POST') {
  const response = await fetch(`${url}/publish`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body: method === 'POST' ? body : undefined,
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

describe('docs/publish.openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toMatch(/^3\.1\./);
    const result = await new Validator().validate(DOCUMENT);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("describes every answer the hub gives, with the status's schema", async () => {
    const event = (extra = {}) =>
      JSON.stringify({ channel: 'orders', type: 'created', data: { id: 1 }, ...extra });
    const cases: [Promise<{ status: number; body: unknown }>, number][] = [
      [post(server.url, event()), 200],
      [
        post(
          server.url,
          JSON.stringify({ events: [JSON.parse(event()), { channel: 'a', type: 'tandem:x', data: 1 }] }),
        ),
        200,
      ],
      [post(server.url, '{'), 400],
      [post(server.url, event(), { authorization: 'Bearer wrong' }), 401],
      [post(off.url, event()), 404],
      [post(server.url, '', {}, 'GET'), 405],
      [post(server.url, event({ data: 'x'.repeat(20_000) })), 413],
      [post(server.url, event({ data: 'x'.repeat(2000) })), 413],
      [post(server.url, event(), { 'content-type': 'text/plain' }), 415],
      [post(down.url, event()), 503],
    ];
    for (const [answer, status] of cases) {
      const { status: got, body } = await answer;
      expect(got, JSON.stringify(body)).toBe(status);
      expect(matchesDocument(got, body), JSON.stringify(body)).toEqual([]);
    }
    const forbidden = await startHubServer(createHub({ publishEndpoint: { authorize: () => ['x'] } }));
    try {
      const { status, body } = await post(forbidden.url, event(), { authorization: 'Bearer any' });
      expect(status).toBe(403);
      expect(matchesDocument(status, body)).toEqual([]);
    } finally {
      await forbidden.close();
    }
  });

  it('would catch an answer the document does not describe', () => {
    expect(matchesDocument(200, { channel: 'a', epoch: 'e', offset: 0 })).not.toEqual([]);
    expect(matchesDocument(400, { error: { code: 'made_up', message: '' } })).not.toEqual([]);
  });
});
