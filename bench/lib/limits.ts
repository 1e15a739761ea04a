import { readFileSync } from 'node:fs';

/** This process's soft limit on open files (children inherit it), or Infinity if unknown. */
export function openFileLimit(): number {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const m = /Max open files\s+(\d+|unlimited)/.exec(limits);
    if (!m || m[1] === 'unlimited') return Number.POSITIVE_INFINITY;
    return Number(m[1]);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Most connections one server process can hold: the fd limit less room for its own files. */
export function maxServerConnections(): number {
  return openFileLimit() - 150;
}
