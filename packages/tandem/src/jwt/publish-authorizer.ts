import type { PublishAuthorize } from '../server';
import { type JwtAuthorizerOptions, jwtAuthorizer } from './authorizer';

/**
 * `publishEndpoint.authorize` for publisher JWTs: verified like `jwtAuthorizer`'s tokens (same
 * options and answers), granting the channel patterns of the `publish` claim, a claim of its own
 * so that a subscriber's token (`channels`) can never publish. Only `Authorization: Bearer`
 * carries the token to the publish endpoint.
 *
 * `claim` defaults to `'publish'`.
 */
export function jwtPublishAuthorizer(options: JwtAuthorizerOptions): PublishAuthorize {
  const authorize = jwtAuthorizer({ ...options, claim: options.claim ?? 'publish' });
  return async (request) => (await authorize(request))?.channels ?? null;
}
