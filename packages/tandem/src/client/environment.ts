/**
 * The client's view of its surroundings: time, timers, randomness, page visibility, network
 * status and storage. Each is injectable, so the core runs and is tested outside a browser;
 * the defaults read the platform when it has the signal and assume "visible, online" when not.
 */

import { defaultTimers, type Timers } from '../protocol';

export type { Timers };

/** A boolean signal that can change: page visibility, network status. */
export interface Signal {
  get(): boolean;
  /** Calls `listener` with the new value on every change; returns the unsubscribe function. */
  subscribe(listener: (value: boolean) => void): () => void;
}

/** The subset of the Web Storage API used for positions. */
export interface PositionStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface Environment {
  now: () => number;
  timers: Timers;
  random: () => number;
  /** True while the page is hidden (background tab). */
  hidden: Signal;
  /** True while the platform believes it is online. */
  online: Signal;
  /**
   * True while the page is put away: from `pagehide` (into the back/forward cache, or unloading)
   * to `pageshow`, and from `freeze` to `resume`. The client holds no connection meanwhile.
   */
  frozen: Signal;
}

interface DocumentLike {
  visibilityState?: string;
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

interface WindowLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/** Listens to `type` on `target`; returns the function that stops. */
function listen(target: WindowLike | DocumentLike, type: string, listener: () => void): () => void {
  target.addEventListener(type, listener);
  return () => target.removeEventListener(type, listener);
}

function constantSignal(value: boolean): Signal {
  return { get: () => value, subscribe: () => () => {} };
}

/** `document.visibilityState === 'hidden'`, or always false without a document. */
export function documentHidden(): Signal {
  const doc = (globalThis as { document?: DocumentLike }).document;
  if (!doc || typeof doc.addEventListener !== 'function') return constantSignal(false);
  const get = () => doc.visibilityState === 'hidden';
  return {
    get,
    subscribe(listener) {
      const handler = () => listener(get());
      doc.addEventListener('visibilitychange', handler);
      return () => doc.removeEventListener('visibilitychange', handler);
    },
  };
}

/** `navigator.onLine` with the window's `online`/`offline` events, or always true. */
export function navigatorOnline(): Signal {
  const g = globalThis as { navigator?: { onLine?: boolean }; window?: WindowLike };
  const win = g.window;
  if (!win || typeof win.addEventListener !== 'function') return constantSignal(true);
  const get = () => g.navigator?.onLine !== false;
  return {
    get,
    subscribe(listener) {
      const on = () => listener(true);
      const off = () => listener(false);
      win.addEventListener('online', on);
      win.addEventListener('offline', off);
      return () => {
        win.removeEventListener('online', on);
        win.removeEventListener('offline', off);
      };
    },
  };
}

/**
 * Whether the page is put away (back/forward cache, frozen by the browser), from the window's
 * `pagehide`/`pageshow` and the document's `freeze`/`resume` events; always false without a
 * window. No platform call tells it, so it is tracked from the events.
 */
export function pageFrozen(): Signal {
  const g = globalThis as { window?: WindowLike; document?: DocumentLike };
  const win = g.window;
  if (!win || typeof win.addEventListener !== 'function') return constantSignal(false);
  const doc = g.document && typeof g.document.addEventListener === 'function' ? g.document : null;
  let frozen = false;
  return {
    get: () => frozen,
    subscribe(listener) {
      const set = (value: boolean) => () => {
        if (frozen === value) return;
        frozen = value;
        listener(value);
      };
      const offs = [listen(win, 'pagehide', set(true)), listen(win, 'pageshow', set(false))];
      if (doc) offs.push(listen(doc, 'freeze', set(true)), listen(doc, 'resume', set(false)));
      return () => {
        for (const off of offs) off();
      };
    },
  };
}

/** `sessionStorage` when present and usable (it throws in some privacy modes), else null. */
export function defaultStorage(): PositionStorage | null {
  try {
    const storage = (globalThis as { sessionStorage?: PositionStorage }).sessionStorage;
    if (!storage) return null;
    const probe = '__tandem_probe__';
    storage.setItem(probe, '1');
    storage.removeItem(probe);
    return storage;
  } catch {
    return null;
  }
}

export function resolveEnvironment(overrides: Partial<Environment> = {}): Environment {
  return {
    now: overrides.now ?? Date.now,
    timers: overrides.timers ?? defaultTimers,
    random: overrides.random ?? Math.random,
    hidden: overrides.hidden ?? documentHidden(),
    online: overrides.online ?? navigatorOnline(),
    frozen: overrides.frozen ?? pageFrozen(),
  };
}
