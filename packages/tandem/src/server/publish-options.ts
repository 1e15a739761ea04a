import type { HubRequest } from './auth';
import { PublishKeys } from './publish-keys';

/**
 * Decides what a publisher that sent none of the publish keys may publish: the channel patterns
 * it may publish to (`*` within a segment, `**` across `/`), or null for `401`. Throw a
 * `TandemError` to answer with its code. The request's `token` is the `Authorization: Bearer`
 * value only (never a cookie or the query string). `jwtPublishAuthorizer` from `tandem/jwt`
 * reads a publisher JWT.
 */
export type PublishAuthorize = (
  request: HubRequest,
) => readonly string[] | null | Promise<readonly string[] | null>;

/** `POST {base}/publish`: publishing over HTTP, from any language. */
export interface PublishEndpointOptions {
  /**
   * Keys a publisher sends as `Authorization: Bearer <key>`; each may publish to every channel.
   * Several, so that a key can be rotated: add the new one, move the publishers, drop the old.
   * Compared in constant time. Give this, `authorize`, or both.
   * @default []
   */
  keys?: readonly string[];
  /**
   * Who may publish where, for a request without one of `keys` (a publisher JWT, a session).
   * @default undefined (keys only)
   */
  authorize?: PublishAuthorize;
  /**
   * Largest request body, in bytes: a larger one is refused with `413` before it is read whole.
   * Each event's data is also held to the hub's `maxEventBytes`.
   * @default 1_048_576 (1 MiB)
   */
  maxBodyBytes?: number;
}

/** Most events in one batch request. */
export const MAX_PUBLISH_BATCH = 100;

/** `publishEndpoint` with its defaults applied. */
export interface PublishEndpointSettings {
  keys: PublishKeys;
  authorize: PublishAuthorize | undefined;
  maxBodyBytes: number;
}

export const PUBLISH_DEFAULTS = { maxBodyBytes: 1_048_576 } as const;

/** Checks `publishEndpoint` at `createHub`: a wrong value throws there, naming the option. */
export function resolvePublishEndpoint(
  options: PublishEndpointOptions | undefined,
): PublishEndpointSettings | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('publishEndpoint must be an object: { keys?, authorize?, maxBodyBytes? }');
  }
  const keys = options.keys ?? [];
  if (!Array.isArray(keys) || keys.some((key) => typeof key !== 'string' || key.length === 0)) {
    throw new TypeError('publishEndpoint.keys must be an array of non-empty strings');
  }
  if (options.authorize !== undefined && typeof options.authorize !== 'function') {
    throw new TypeError('publishEndpoint.authorize must be a function');
  }
  if (keys.length === 0 && !options.authorize) {
    throw new TypeError(
      'publishEndpoint needs keys or authorize: without either nobody could publish (leave the option out to turn the endpoint off)',
    );
  }
  const maxBodyBytes = options.maxBodyBytes ?? PUBLISH_DEFAULTS.maxBodyBytes;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new RangeError('publishEndpoint.maxBodyBytes must be a positive integer');
  }
  return { keys: new PublishKeys(keys), authorize: options.authorize, maxBodyBytes };
}
