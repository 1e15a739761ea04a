/** Every URL the client builds, in one place. */

/** `{base}/stream?channels=…` or `{base}/poll?channels=…`, keeping the base's own query. */
export function endpointUrl(base: string, name: 'stream' | 'poll', channels: readonly string[]): string {
  const [path = '', query] = base.split('?', 2);
  const params = `channels=${channels.map(encodeURIComponent).join(',')}`;
  return `${path.replace(/\/+$/, '')}/${name}?${query ? `${query}&` : ''}${params}`;
}

/** `url` with one more query parameter. */
export function withParam(url: string, name: string, value: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`;
}
