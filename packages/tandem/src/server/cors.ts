import { type CorsOptions, HUB_DEFAULTS } from './options';

export type HeaderMap = Record<string, string>;

/** Headers a cross-origin client may send: the cursor, the token, and conditional polls. */
const ALLOW_HEADERS = 'Last-Event-ID, Authorization, Cache-Control, If-None-Match, Content-Type';
const EXPOSE_HEADERS = 'ETag, Retry-After';

/** Computes the CORS headers of responses; a disallowed origin simply gets none. */
export class Cors {
  private readonly allow: (origin: string) => boolean;
  private readonly anyOrigin: boolean;
  private readonly credentials: boolean;
  private readonly maxAge: string;

  constructor(options: CorsOptions) {
    const origin = options.origin ?? '*';
    if (options.credentials && origin === '*') {
      // Echoing any Origin with Allow-Credentials would let every site read a user's streams
      // with their cookie.
      throw new TypeError(
        "cors: credentials need an explicit origin list or predicate, not '*' (the default): " +
          'with credentials every origin would be echoed and any site could read your users’ streams',
      );
    }
    this.anyOrigin = origin === '*';
    this.allow =
      typeof origin === 'function'
        ? origin
        : typeof origin === 'string'
          ? (o) => origin === '*' || o === origin
          : (o) => origin.includes(o);
    this.credentials = options.credentials ?? false;
    this.maxAge = String(options.maxAgeSeconds ?? HUB_DEFAULTS.corsMaxAgeSeconds);
  }

  /** Headers for an actual response to a request from `origin`. */
  headers(origin: string | null): HeaderMap {
    if (!origin) return this.anyOrigin && !this.credentials ? { 'Access-Control-Allow-Origin': '*' } : {};
    if (!this.allow(origin)) return {};
    const headers: HeaderMap = {
      'Access-Control-Allow-Origin': this.anyOrigin && !this.credentials ? '*' : origin,
      'Access-Control-Expose-Headers': EXPOSE_HEADERS,
    };
    if (!(this.anyOrigin && !this.credentials)) headers.Vary = 'Origin';
    if (this.credentials) headers['Access-Control-Allow-Credentials'] = 'true';
    return headers;
  }

  /** Headers answering a preflight (`OPTIONS`). */
  preflight(origin: string | null): HeaderMap {
    const headers = this.headers(origin);
    if (!headers['Access-Control-Allow-Origin']) return headers;
    headers['Access-Control-Allow-Methods'] = 'GET, OPTIONS';
    headers['Access-Control-Allow-Headers'] = ALLOW_HEADERS;
    headers['Access-Control-Max-Age'] = this.maxAge;
    return headers;
  }
}

export function corsFrom(option: boolean | CorsOptions | undefined): Cors | null {
  if (!option) return null;
  return new Cors(option === true ? {} : option);
}
