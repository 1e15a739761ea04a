import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { TandemError } from '../protocol';
import type { Authorize, Grant } from './auth';

export interface JwtAuthorizerOptions {
  /** HMAC secret (HS256/384/512). Give this or `jwks`. */
  secret?: string | Uint8Array;
  /** Public keys: a JWKS URL (fetched and cached by jose) or a key set. Give this or `secret`. */
  jwks?: string | URL | JSONWebKeySet;
  /**
   * The claim holding the channel patterns: an array of strings or one space-separated string.
   * @default 'channels'
   */
  claim?: string;
  /** Required `iss`. @default undefined (not checked) */
  issuer?: string | string[];
  /** Required `aud`. @default undefined (not checked) */
  audience?: string | string[];
  /** Accepted algorithms. @default jose's choice for the key type */
  algorithms?: string[];
  /**
   * Tolerated clock difference for `exp` and `nbf`, in seconds.
   * @default 0
   */
  clockToleranceSeconds?: number;
}

/**
 * An `authorize` hook that reads a JWT (from `Authorization: Bearer`, the token cookie or the
 * `token` query parameter), verifies it with jose, and grants the channel patterns of its
 * `claim`. The token's `exp` ends the stream with `tandem:bye` `token_expired`.
 *
 * Answers: no token → `401 unauthorized`; bad signature or claims → `401 unauthorized`;
 * expired → `401 token_expired` (the client refreshes its token and resumes).
 */
export function jwtAuthorizer(options: JwtAuthorizerOptions): Authorize {
  const claim = options.claim ?? 'channels';
  let key: Uint8Array | JWTVerifyGetKey;
  if (options.secret !== undefined) {
    key = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
  } else if (options.jwks !== undefined) {
    key =
      typeof options.jwks === 'string' || options.jwks instanceof URL
        ? createRemoteJWKSet(new URL(options.jwks))
        : createLocalJWKSet(options.jwks);
  } else {
    throw new TypeError('jwtAuthorizer needs a secret or a jwks');
  }
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms: options.algorithms,
    clockTolerance: options.clockToleranceSeconds ?? 0,
  };

  return async (request): Promise<Grant | null> => {
    if (!request.token) return null;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(request.token, key as Uint8Array, verifyOptions));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_JWT_EXPIRED') throw new TandemError('token_expired', 'the token has expired');
      throw new TandemError('unauthorized', 'the token is invalid', { cause: error });
    }
    return {
      subject: typeof payload.sub === 'string' ? payload.sub : 'anonymous',
      channels: channelsOf(payload[claim]),
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
    };
  };
}

function channelsOf(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}
