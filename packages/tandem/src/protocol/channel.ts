import { TandemError } from './errors';

/** Channel names: 1–200 characters from `[A-Za-z0-9_.:/-]`. */
export const CHANNEL_PATTERN = /^[A-Za-z0-9_.:/-]{1,200}$/;
/** Most channels one connection or poll may ask for. */
export const MAX_CHANNELS_PER_REQUEST = 64;

export function isValidChannel(name: unknown): name is string {
  return typeof name === 'string' && CHANNEL_PATTERN.test(name);
}

export function assertChannel(name: unknown): asserts name is string {
  if (!isValidChannel(name)) {
    throw new TandemError(
      'invalid_channel',
      `invalid channel name ${JSON.stringify(String(name)).slice(0, 220)}: use 1-200 characters from [A-Za-z0-9_.:/-]`,
    );
  }
}

/**
 * Parses the `channels` query parameter (`a,b,c`): every name valid, duplicates removed, order
 * kept, at most `MAX_CHANNELS_PER_REQUEST`. Throws `invalid_channel` / `bad_request`.
 */
export function parseChannelList(value: string | null | undefined): string[] {
  if (!value) throw new TandemError('bad_request', 'the channels parameter is required');
  // One channel (the usual request) needs no split and no de-duplication.
  const names = value.includes(',') ? [...new Set(value.split(','))] : [value];
  if (names.length > MAX_CHANNELS_PER_REQUEST) {
    throw new TandemError('bad_request', `at most ${MAX_CHANNELS_PER_REQUEST} channels per request`);
  }
  for (const name of names) assertChannel(name);
  return names;
}

const patternCache = new Map<string, RegExp>();

/**
 * Whether `channel` matches an authorization pattern. `*` matches any run of characters except
 * `/`; `**` matches any run including `/`; everything else matches itself. So
 * `tenant:acme/*` grants `tenant:acme/orders` but not `tenant:acme/orders/eu` nor `tenant:acme2/x`.
 */
export function channelMatches(pattern: string, channel: string): boolean {
  if (!pattern.includes('*')) return pattern === channel;
  let regex = patternCache.get(pattern);
  if (!regex) {
    const source = pattern
      .split('**')
      .map((part) =>
        part
          .split('*')
          .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]*'),
      )
      .join('.*');
    regex = new RegExp(`^${source}$`);
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(pattern, regex);
  }
  return regex.test(channel);
}

/** Whether any of `patterns` grants `channel`. */
export function isChannelPermitted(patterns: readonly string[], channel: string): boolean {
  for (const pattern of patterns) if (channelMatches(pattern, channel)) return true;
  return false;
}
