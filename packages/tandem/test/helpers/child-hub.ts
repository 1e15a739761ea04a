/**
 * A hub in a child process, so a test can kill it with SIGKILL: `fixture` is a module that
 * serves a hub and prints `{"url": "http://127.0.0.1:<port>"}` on one line once it does.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface ChildHub {
  url: string;
  child: ChildProcess;
  /** SIGKILL, resolved once the process exited (at once when it already had). */
  kill9(): Promise<void>;
}

export async function startChildHub(fixture: string, env: Record<string, string>): Promise<ChildHub> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=tandem-source', fixture], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('child hub did not start')), 30_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child hub exited (${code})`));
    });
  });
  return {
    url,
    child,
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
