/**
 * Counts the live timers created by the server's own code (stack under `src/server/`), since
 * `process.getActiveResourcesInfo()` does not list unref'd timers, and the hub unrefs its own.
 */
export function trackServerTimers(): { live(): number; created(): number; restore(): void } {
  const original = { setTimeout, setInterval, clearTimeout, clearInterval };
  const live = new Set<unknown>();
  let created = 0;
  const fromServer = () => /[/\\]src[/\\]server[/\\]/.test(new Error().stack ?? '');
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const mine = fromServer();
    const handle = original.setTimeout(() => {
      live.delete(handle);
      fn(...args);
    }, ms);
    if (mine) {
      live.add(handle);
      created++;
    }
    return handle;
  }) as typeof setTimeout;
  globalThis.setInterval = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = original.setInterval(fn, ms, ...args);
    if (fromServer()) {
      live.add(handle);
      created++;
    }
    return handle;
  }) as typeof setInterval;
  globalThis.clearTimeout = ((handle: Parameters<typeof clearTimeout>[0]) => {
    live.delete(handle);
    original.clearTimeout(handle);
  }) as typeof clearTimeout;
  globalThis.clearInterval = ((handle: Parameters<typeof clearInterval>[0]) => {
    live.delete(handle);
    original.clearInterval(handle);
  }) as typeof clearInterval;
  return {
    live: () => live.size,
    created: () => created,
    restore() {
      Object.assign(globalThis, original);
    },
  };
}
