import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** A `tandem serve` child: its JSON log lines, its other output, and its exit. */
export interface ServeProcess {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** The `start` line's url, once it is logged. */
  started(timeoutMs?: number): Promise<string>;
  /** SIGKILL if still running. */
  kill(): Promise<void>;
}

/**
 * Runs the `tandem` command from the sources (tsx as a loader, with the workspace's source
 * condition) with exactly `env` (plus PATH) and `args`. One process, not tsx's CLI, which runs
 * the command in a child of its own: a kill must reach the hub itself, or it would outlive the test.
 */
export function runTandem(args: string[], env: Record<string, string> = {}): ServeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=tandem-source', BIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: 'pipe',
  });
  return watch(child);
}

/** Collects a child's JSON lines. */
export function watch(child: ChildProcess): ServeProcess {
  const lines: Record<string, unknown>[] = [];
  let output = '';
  let pending = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    output += chunk;
    pending += chunk;
    for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    output: () => output,
    exited,
    async started(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const start = lines.find((line) => line.msg === 'start');
        if (start) return start.url as string;
        if (child.exitCode !== null) throw new Error(`tandem exited with ${child.exitCode}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`tandem did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
