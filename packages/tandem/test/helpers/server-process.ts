/**
 * A server a test runs as a child process (redis-server, postgres): started on a free loopback
 * port, and on another when a process took the port between the probe and the launch; signalled
 * and awaited until it exits; killed with the test process if the test did not stop it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { vi } from 'vitest';
import { freePort } from './free-port';

export interface ServerProcessOptions {
  /** Names the server in errors. */
  name: string;
  /** The command line that starts it on `port`, asked at every launch. */
  command(port: number): [string, string[]];
  /** Whether it serves yet; false or a rejection means not yet. */
  ready(port: number): Promise<boolean>;
  /** The pause between two `ready` probes. */
  probeEveryMs: number;
  /** How long a launch may wait for `ready`. */
  startTimeoutMs: number;
  /** The pid to signal when the child only wraps the server (`runuser`). Default: the child's. */
  serverPid?(): number | undefined;
}

export interface ServerProcess {
  readonly port: number;
  /** Whether the process is running. */
  readonly running: boolean;
  /** Starts it again on the same port; rejects if it exits or is not ready in time. */
  launch(): Promise<void>;
  /** Sends `name` and resolves once the process exited (at once when it is not running). */
  signal(name: NodeJS.Signals): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  installExitHook();
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (): Promise<void> => {
    const [file, args] = options.command(port);
    const proc = spawn(file, args, { stdio: 'ignore' });
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    child = proc;
    // Ready, or ended: a process that exited is not waited for.
    await vi.waitFor(
      async () => {
        if (exited(proc)) return;
        if (!(await options.ready(port).catch(() => false)))
          throw new Error(`${options.name} on port ${port} did not start`);
      },
      { timeout: options.startTimeoutMs, interval: options.probeEveryMs },
    );
    if (exited(proc)) throw new Error(`${options.name} exited early (${proc.exitCode ?? proc.signalCode})`);
  };

  const signal = async (name: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || exited(proc)) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const pid = options.serverPid?.();
    try {
      if (pid !== undefined) process.kill(pid, name);
      else proc.kill(name);
    } catch {
      proc.kill('SIGKILL');
    }
    await gone;
  };

  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      await signal('SIGKILL');
      if (attempt >= 4) throw error;
    }
  }

  return {
    port,
    get running() {
      return child !== undefined && !exited(child);
    },
    launch,
    signal,
  };
}
