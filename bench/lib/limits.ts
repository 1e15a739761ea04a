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

/** The kernel's cap on a listen backlog (net.core.somaxconn), or NaN if unknown. */
export function listenBacklogCap(): number {
  try {
    return Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
  } catch {
    return Number.NaN;
  }
}

/**
 * TCP counters of this network namespace (Linux): connections dropped because a listen queue
 * was full, and SYN retransmissions. Namespace-wide, so other processes add to them too.
 */
export function tcpCounters(): { listenOverflows: number; synRetrans: number } {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i++) {
      if (!lines[i]!.startsWith('TcpExt:')) continue;
      const names = lines[i]!.split(/\s+/);
      const values = lines[i + 1]!.split(/\s+/);
      const get = (name: string) => Number(values[names.indexOf(name)]);
      return { listenOverflows: get('ListenOverflows'), synRetrans: get('TCPSynRetrans') };
    }
  } catch {}
  return { listenOverflows: Number.NaN, synRetrans: Number.NaN };
}
