import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type Broker, checkIdempotencyKey } from '../broker';
import { assertChannel, assertFieldValue, isReservedType, type LiveEvent, TandemError } from '../protocol';
import { brokerError } from './errors';
import type { PublishOptions } from './hub-types';
import type { MetricsReporter } from './metrics';
import { utf8Length } from './utf8';

/** Longest event type accepted. */
const MAX_TYPE_LENGTH = 200;

/**
 * Validates and appends one event. Everything that could corrupt the wire or the log is
 * refused here, with a TandemError, before the broker sees it: a bad channel, a type that could
 * inject SSE fields or impersonate a control event, data that does not validate or is not JSON.
 */
export async function publishEvent(
  broker: Broker,
  schemas: Record<string, StandardSchemaV1 | undefined>,
  metrics: MetricsReporter,
  maxEventBytes: number,
  channel: string,
  type: string,
  data: unknown,
  options?: PublishOptions,
): Promise<LiveEvent> {
  assertChannel(channel);
  const key = options?.idempotencyKey;
  checkIdempotencyKey(key);
  if (typeof type !== 'string' || type === '' || type.length > MAX_TYPE_LENGTH) {
    throw new TandemError('bad_request', `event type must be 1-${MAX_TYPE_LENGTH} characters`);
  }
  assertFieldValue('event', type);
  if (isReservedType(type)) {
    throw new TandemError(
      'bad_request',
      `event type ${JSON.stringify(type)} is reserved: tandem: is Tandem's own prefix`,
    );
  }
  const schema = Object.hasOwn(schemas, type) ? schemas[type] : undefined;
  if (schema) {
    const result = await schema['~standard'].validate(data);
    if (result.issues) {
      const message = result.issues
        .slice(0, 5)
        .map((issue) => {
          const path = issue.path
            ?.map((p) => (typeof p === 'object' && p !== null ? (p as { key: PropertyKey }).key : p))
            .map(String)
            .join('.');
          return path ? `${path}: ${issue.message}` : issue.message;
        })
        .join('; ');
      throw new TandemError('validation_failed', `invalid ${type} data: ${message}`);
    }
    data = result.value;
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (error) {
    throw new TandemError('bad_request', `event data is not JSON-serialisable: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (json === undefined) throw new TandemError('bad_request', 'event data is not JSON-serialisable');
  // UTF-8 takes at most 3 bytes per UTF-16 unit: count exactly only near the limit.
  if (json.length > maxEventBytes || (json.length * 3 > maxEventBytes && utf8Length(json) > maxEventBytes)) {
    throw new TandemError(
      'payload_too_large',
      `event data is ${utf8Length(json)} bytes of JSON; the limit (maxEventBytes) is ${maxEventBytes}`,
    );
  }
  // Serialised once here: the broker stores this text (or a copy made from it), and the fan-out
  // reuses it for the frame.
  let event: LiveEvent;
  try {
    event = await broker.append(
      channel,
      type,
      data,
      json,
      key === undefined ? undefined : { idempotencyKey: key },
    );
  } catch (error) {
    throw brokerError(error);
  }
  metrics.published();
  return event;
}
