/**
 * Child processes for servers and generator shards: started with tsx, optionally pinned to
 * cores, driven by request/response messages over the IPC channel, and measured from outside
 * through /proc so the measurement costs the measured process nothing.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

export interface Child {
  proc: ChildProcess;
  pid: number;
  request<T = unknown>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

let hasTaskset: boolean | undefined;
function tasksetAvailable(): boolean {
  if (hasTaskset === undefined) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      hasTaskset = true;
    } catch {
      hasTaskset = false;
    }
  }
  return hasTaskset;
}

/** Pins every thread of a process to `cpus` (a taskset list such as "0" or "1-3"); false if it cannot. */
export function pin(pid: number, cpus: string | undefined): boolean {
  if (!cpus || !tasksetAvailable()) return false;
  try {
    execFileSync('taskset', ['-a', '-pc', cpus, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface CpuPlan {
  server: string | undefined;
  generator: string | undefined;
  note: string;
}

/** Server on core 0, generator (and the runner) on the rest, when there are at least 2 cores. */
export function planCpus(): CpuPlan {
  const n = os.availableParallelism();
  if (n < 2 || !tasksetAvailable()) {
    return {
      server: undefined,
      generator: undefined,
      note: `not pinned (${n} cores, taskset ${tasksetAvailable() ? 'available' : 'missing'})`,
    };
  }
  const generator = n === 2 ? '1' : `1-${n - 1}`;
  return { server: '0', generator, note: `server pinned to cpu 0, generator to cpu ${generator} (taskset)` };
}

export interface SpawnOptions {
  args?: string[];
  cpus?: string | undefined;
  env?: Record<string, string>;
  /** Extra node flags, e.g. --expose-gc or --cpu-prof. */
  nodeFlags?: string[];
  /** Load TypeScript through tsx (default); false for a compiled entry. */
  tsx?: boolean;
  label: string;
}

let nextId = 1;

/** Forks a TypeScript entry with tsx and waits for its `ready` message. */
export async function spawnChild(entry: string, options: SpawnOptions): Promise<Child> {
  const proc = fork(entry, options.args ?? [], {
    execArgv: [...(options.tsx === false ? [] : ['--import', 'tsx']), ...(options.nodeFlags ?? [])],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const pid = proc.pid;
  if (pid === undefined) throw new Error(`${options.label}: fork failed`);
  pin(pid, options.cpus);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let exited = false;
  proc.on('message', (raw) => {
    const msg = raw as { id?: number; ok?: boolean; result?: unknown; error?: string };
    if (msg.id === undefined) return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`${options.label}: ${msg.error}`));
  });
  const exit = new Promise<void>((resolve) => {
    proc.on('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`${options.label} exited (${code ?? signal})`));
      pending.clear();
      resolve();
    });
  });
  const child: Child = {
    proc,
    pid,
    request<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`${options.label} has exited`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${options.label}: ${cmd} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        proc.send({ id, cmd, ...args });
      });
    },
    async stop() {
      if (exited) return;
      proc.send({ id: 0, cmd: 'exit' });
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
  await child.request('ping', {}, 60_000);
  return child;
}

type Handler = (args: Record<string, unknown>) => unknown;

/** The child side: answers the runner's requests with the given handlers. */
export function serveRequests(handlers: Record<string, Handler>, onExit?: () => Promise<void> | void): void {
  process.on('message', async (raw) => {
    const { id, cmd, ...args } = raw as { id: number; cmd: string } & Record<string, unknown>;
    if (cmd === 'exit') {
      try {
        await onExit?.();
      } finally {
        process.exit(0);
      }
    }
    if (cmd === 'ping') {
      process.send?.({ id, ok: true, result: 'pong' });
      return;
    }
    const handler = handlers[cmd];
    try {
      if (!handler) throw new Error(`unknown command ${cmd}`);
      const result = await handler(args);
      process.send?.({ id, ok: true, result });
    } catch (error) {
      process.send?.({
        id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  });
  // The runner going away must take its children with it.
  process.on('disconnect', () => process.exit(0));
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export interface ProcSample {
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number;
  /** The kernel's part of cpuSeconds (system calls, and the loopback TCP work done in them). */
  systemSeconds: number;
  /** The part spent by threads other than the main one (V8's GC and compiler helpers). */
  helperSeconds: number;
  rssBytes: number;
  at: number;
}

/** CPU and RSS of a process from /proc (Linux); NaN where unavailable. */
export function sampleProcess(pid: number): ProcSample {
  const at = performance.now();
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    let helper = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      if (Number(tid) === pid) continue;
      try {
        const t = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
        helper += Number(f[11]) + Number(f[12]);
      } catch {
        // The thread ended meanwhile.
      }
    }
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    return {
      cpuSeconds: (utime + stime) / ticksPerSecond(),
      systemSeconds: stime / ticksPerSecond(),
      helperSeconds: helper / ticksPerSecond(),
      rssBytes: rss ? Number(rss[1]) * 1024 : Number.NaN,
      at,
    };
  } catch {
    return {
      cpuSeconds: Number.NaN,
      systemSeconds: Number.NaN,
      helperSeconds: Number.NaN,
      rssBytes: Number.NaN,
      at,
    };
  }
}

/** CPU seconds a process spent between two samples. */
export function cpuBetween(a: ProcSample, b: ProcSample): number {
  return b.cpuSeconds - a.cpuSeconds;
}
