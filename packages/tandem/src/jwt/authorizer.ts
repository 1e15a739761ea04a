import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import { TandemError } from '../protocol';
import type { Authorize, Grant } from '../server';

/** An HMAC secret, or a function returning it (read at the first request, not before). */
export type JwtSecret = string | Uint8Array | (() => string | Uint8Array | undefined);

export interface JwtAuthorizerOptions {
  /**
   * HMAC secret: the string (UTF-8), its bytes, or a function returning either, e.g.
   * `() => process.env.TANDEM_SECRET`. A function is called at the first request rather than
   * at creation, so a build without secrets passes; a missing secret fails each request with
   * `500 internal` until one is set. Give this or `jwks`.
   */
  secret?: JwtSecret;
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
  /**
   * Accepted `alg` values; any other is refused, so a token signed another way than meant
   * (another HMAC size, `none`, a public key used as an HMAC secret) never verifies.
   * @default ['HS256'] with `secret`; ['RS256', 'ES256', 'EdDSA'] with `jwks`
   */
  algorithms?: string[];
  /**
   * Tolerated clock difference, in seconds: a token is accepted until `exp` plus this (and its
   * stream ends then), and from `nbf` minus this.
   * @default 0
   */
  clockToleranceSeconds?: number;
  /**
   * Refuse tokens without `exp` (`401 unauthorized`). With `false`, a token without `exp` gives
   * streams that never expire: only `hub.disconnect` ends them.
   * @default true
   */
  requireExp?: boolean;
  /**
   * What a hub with presence shows of the member to the channel's other followers, from the
   * verified claims: e.g. `(claims) => ({ name: claims.name })`. A small JSON object (see the
   * hub's `presence.maxInfoBytes`).
   * @default undefined (members are shown by `sub` alone)
   */
  presenceInfo?: (claims: JWTPayload) => Record<string, unknown> | undefined;
}

type Key = Uint8Array | JWTVerifyGetKey;

/**
 * An `authorize` hook that reads a JWT (from `Authorization: Bearer`, the token cookie or the
 * `token` query parameter), verifies it with jose, and grants the channel patterns of its
 * `claim`; `sub` is the subject. The token's `exp` ends the stream with `tandem:bye`
 * `token_expired`.
 *
 * Answers: no token → `401 unauthorized`; bad signature, another algorithm, no `exp`, wrong
 * `iss`/`aud`, not yet valid → `401 unauthorized`; expired → `401 token_expired` (the client
 * refreshes its token and resumes); no secret configured → `500 internal`.
 *
 * Creating it never throws for a missing secret: a build or a test without secrets can import
 * and create the hub.
 */
export function jwtAuthorizer(options: JwtAuthorizerOptions): Authorize {
  const claim = options.claim ?? 'channels';
  const toleranceSeconds = options.clockToleranceSeconds ?? 0;
  if (options.presenceInfo !== undefined && typeof options.presenceInfo !== 'function') {
    throw new TypeError('presenceInfo must be a function of the claims');
  }
  const verifyOptions: JWTVerifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms:
      options.algorithms ??
      (options.jwks !== undefined && options.secret === undefined ? JWKS_ALGORITHMS : HMAC_ALGORITHMS),
    clockTolerance: toleranceSeconds,
    requiredClaims: options.requireExp === false ? [] : ['exp'],
  };
  let key: Key | undefined = options.secret === undefined ? keySetOf(options.jwks) : undefined;
  let reported = false;

  /** The key, read at the first request that needs it and kept once found. */
  const keyOf = (): Key => {
    if (key) return key;
    const secret = typeof options.secret === 'function' ? options.secret() : options.secret;
    if (secret !== undefined && secret.length > 0) {
      key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
      return key;
    }
    const message =
      options.secret === undefined
        ? 'jwtAuthorizer has neither a secret nor a jwks'
        : typeof options.secret === 'function'
          ? "jwtAuthorizer's secret function returned no secret"
          : "jwtAuthorizer's secret is empty";
    if (!reported) {
      reported = true;
      console.error(`[tandem] ${message}; every authenticated request fails with 500 until one is set`);
    }
    throw new TandemError('internal', 'the server has no key to verify tokens');
  };

  return async (request): Promise<Grant | null> => {
    if (!request.token) return null;
    const verifyKey = keyOf();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(request.token, verifyKey as Uint8Array, verifyOptions));
    } catch (error) {
      throw refusal(error);
    }
    return {
      subject: typeof payload.sub === 'string' ? payload.sub : 'anonymous',
      channels: channelsOf(payload[claim]),
      // The hub ends the stream at this instant: `exp` with the same tolerance jose allowed.
      expiresAt: typeof payload.exp === 'number' ? (payload.exp + toleranceSeconds) * 1000 : undefined,
      info: options.presenceInfo?.(payload),
    };
  };
}

const HMAC_ALGORITHMS = ['HS256'];
const JWKS_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];

function keySetOf(jwks: JwtAuthorizerOptions['jwks']): Key | undefined {
  if (jwks === undefined) return undefined;
  return typeof jwks === 'string' || jwks instanceof URL
    ? createRemoteJWKSet(new URL(jwks))
    : createLocalJWKSet(jwks);
}

/** jose's verification error as the hub's answer. */
function refusal(error: unknown): TandemError {
  const { code, claim, reason } = error as { code?: unknown; claim?: unknown; reason?: unknown };
  if (code === 'ERR_JWT_EXPIRED') return new TandemError('token_expired', 'the token has expired');
  let message = 'the token is invalid';
  if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') message = "the token's algorithm is not accepted";
  else if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && typeof claim === 'string')
    message =
      reason === 'missing' ? `the token has no ${claim} claim` : `the token's ${claim} claim was refused`;
  else if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
    message = "the token's signature does not verify";
  return new TandemError('unauthorized', message, { cause: error });
}

function channelsOf(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}
