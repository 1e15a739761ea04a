import { assertChannel, isChannelPermitted, isTandemError, type LiveEvent, TandemError } from '../protocol';
import type { HubRequest } from './auth';
import type { HubContext } from './context';
import type { HeaderMap } from './cors';
import { errorOutcome, json, type PlainOutcome } from './handler';
import type { PublishOptions } from './hub-types';
import type { PublishResult } from './metrics';
import { MAX_PUBLISH_BATCH, type PublishEndpointSettings } from './publish-options';

/** One event of a request, its shape checked. */
interface Item {
  channel: string;
  type: string;
  data: unknown;
  idempotencyKey?: string;
}

/** A batch item's answer: where its event is, or why it was refused. */
type ItemResult = { channel: string; epoch: string; offset: number } | ReturnType<TandemError['toJSON']>;

/** Codes of `publish` that mean a bad event: `400`, whatever their status elsewhere. */
const BAD_EVENT = new Set(['invalid_field', 'validation_failed', 'invalid_channel']);

/**
 * `POST {base}/publish`: the publish key or grant first, then the media type, then the body,
 * read with a bound; then one event (`{ channel, type, data, idempotencyKey? }`) or a batch
 * (`{ events: [...] }`, at most 100, not atomic: published in order, each with its own result).
 */
export async function publishEndpoint(
  ctx: HubContext,
  request: HubRequest,
  headers: HeaderMap,
): Promise<PlainOutcome> {
  const settings = ctx.settings.publishEndpoint!;
  try {
    const granted = await authorizePublisher(settings, request);
    const contentType = request.headers.get('content-type');
    const media = contentType?.split(';')[0]?.trim().toLowerCase();
    if (media !== 'application/json') {
      throw new TandemError(
        'unsupported_media_type',
        `send the events as application/json (the request's Content-Type is ${contentType ? JSON.stringify(contentType.slice(0, 100)) : 'missing'})`,
      );
    }
    const body = parseBody(await request.body(settings.maxBodyBytes));
    const batch = isBatch(body);
    const items = batch ? batchItems(body) : [itemOf(body, '')];
    const denied = items
      .map((item) => item.channel)
      .filter((channel) => !isChannelPermitted(granted, channel));
    if (denied.length > 0) {
      throw new TandemError(
        'forbidden',
        `not permitted to publish to ${[...new Set(denied)].slice(0, 5).join(', ')}`,
      );
    }
    if (!batch) {
      const event = await publishOne(ctx, items[0]!);
      ctx.metrics.publishAnswered('ok');
      return json(200, position(event), headers);
    }
    return await publishBatch(ctx, items, headers);
  } catch (error) {
    const refusal =
      isTandemError(error) && BAD_EVENT.has(error.code)
        ? new TandemError(error.code, error.message, { status: 400 })
        : error;
    ctx.metrics.publishAnswered(isTandemError(refusal) ? refusal.code : 'internal');
    return errorOutcome(ctx, refusal, headers);
  }
}

/** The channel patterns the request may publish to; `401` without a key or grant. */
async function authorizePublisher(
  settings: PublishEndpointSettings,
  request: HubRequest,
): Promise<readonly string[]> {
  // The header only: a key or token in a URL ends up in logs, and a cookie would let any page
  // the user visits publish in their name.
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
  const token = match ? match[1]! : null;
  if (token !== null && settings.keys.size > 0 && settings.keys.matches(token)) return ['**'];
  if (settings.authorize) {
    request.token = token;
    const granted = await settings.authorize(request);
    if (granted) return granted;
  }
  throw new TandemError(
    'unauthorized',
    token === null
      ? 'publishing needs Authorization: Bearer <publish key or token>'
      : 'the publish credentials were not accepted',
  );
}

function parseBody(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new TandemError('bad_request', 'the request body is not UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TandemError('bad_request', `the request body is not JSON: ${(error as Error).message}`);
  }
}

function isBatch(body: unknown): body is { events: unknown } {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && 'events' in body;
}

function batchItems(body: { events: unknown }): Item[] {
  const { events } = body;
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_PUBLISH_BATCH) {
    throw new TandemError('bad_request', `events must be an array of 1 to ${MAX_PUBLISH_BATCH} events`);
  }
  return events.map((event, i) => itemOf(event, `events[${i}].`));
}

/** One event's fields, checked for shape (the publish checks their values), `at` naming it. */
function itemOf(value: unknown, at: string): Item {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TandemError(
      'bad_request',
      `${at || 'the body '}must be an object { channel, type, data, idempotencyKey? }`.trimStart(),
    );
  }
  const { channel, type, data, idempotencyKey } = value as Record<string, unknown>;
  if (typeof channel !== 'string') throw new TandemError('bad_request', `${at}channel must be a string`);
  if (typeof type !== 'string') throw new TandemError('bad_request', `${at}type must be a string`);
  if (data === undefined) throw new TandemError('bad_request', `${at}data is missing (null is a value)`);
  if (idempotencyKey !== undefined && typeof idempotencyKey !== 'string') {
    throw new TandemError('bad_request', `${at}idempotencyKey must be a string`);
  }
  try {
    assertChannel(channel);
  } catch (error) {
    throw new TandemError('bad_request', `${at}channel: ${(error as Error).message}`);
  }
  return { channel, type, data, idempotencyKey };
}

function publishOne(ctx: HubContext, item: Item): Promise<LiveEvent> {
  const options: PublishOptions | undefined =
    item.idempotencyKey === undefined ? undefined : { idempotencyKey: item.idempotencyKey };
  return ctx.publish(item.channel, item.type, item.data, options);
}

function position(event: LiveEvent): ItemResult {
  return { channel: event.channel, epoch: event.epoch, offset: event.offset };
}

/**
 * In order, one at a time, so a channel's events take offsets in the batch's order. An item's
 * refusal does not stop the others; an unavailable broker does (the rest are not attempted),
 * and when it stops the first item nothing was appended: the answer is then `503`.
 */
async function publishBatch(ctx: HubContext, items: Item[], headers: HeaderMap): Promise<PlainOutcome> {
  const results: ItemResult[] = [];
  let result: PublishResult = 'ok';
  for (const item of items) {
    try {
      results.push(position(await publishOne(ctx, item)));
    } catch (error) {
      if (!isTandemError(error)) throw error;
      if (error.code === 'broker_unavailable' || error.code === 'shutting_down') {
        if (!results.some((r) => 'offset' in r)) throw error;
        results.push(error.toJSON());
        const skipped = new TandemError(error.code, `not attempted: ${error.message}`).toJSON();
        while (results.length < items.length) results.push(skipped);
        result = 'partial';
        break;
      }
      results.push(error.toJSON());
      result = 'partial';
    }
  }
  ctx.metrics.publishAnswered(result);
  return json(200, { results }, headers);
}
