import type { PollResponse, TandemError } from '../protocol';
import type { Timers } from './environment';
import { type FetchLike, responseError } from './transports/fetch';
import { withParam } from './urls';

export interface PollRequest {
  fetch: FetchLike;
  /** The poll endpoint with its `channels` parameter. */
  url: string;
  cursor: string | null;
  token: string | null;
  /** An ETag to send as `If-None-Match`, when the cursor has not moved since it was received. */
  ifNoneMatch: string | null;
  credentials: RequestCredentials;
  timeoutMs: number;
  timers: Timers;
  now: () => number;
}

export type PollOutcome =
  | { kind: 'events'; body: PollResponse; etag: string | null }
  | { kind: 'not_modified' }
  | { kind: 'error'; error: TandemError };

/** One `GET {base}/poll`, abandoned after `timeoutMs`. Network failures reject. */
export async function requestPoll(request: PollRequest): Promise<PollOutcome> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (request.token) headers.Authorization = `Bearer ${request.token}`;
  if (request.ifNoneMatch) headers['If-None-Match'] = request.ifNoneMatch;
  const url = request.cursor ? withParam(request.url, 'cursor', request.cursor) : request.url;

  const controller = new AbortController();
  // A poll over a socket that went silent would otherwise wait forever and block the next.
  const timeout = request.timers.setTimeout(() => controller.abort(), request.timeoutMs);
  try {
    const response = await request.fetch(url, {
      headers,
      signal: controller.signal,
      credentials: request.credentials,
      cache: 'no-store',
    });
    if (response.status === 304) return { kind: 'not_modified' };
    if (!response.ok) return { kind: 'error', error: await responseError(response, request.now()) };
    const body = (await response.json()) as PollResponse;
    return { kind: 'events', body, etag: response.headers.get('etag') };
  } finally {
    request.timers.clearTimeout(timeout);
  }
}
