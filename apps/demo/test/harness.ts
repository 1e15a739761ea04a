import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, vi } from 'vitest';
import { launchChromium, type TestBrowser } from '../../../packages/tandem/test/helpers/chromium';
import { freePort } from '../../../packages/tandem/test/helpers/free-port';

export type { TestBrowser };

export const DEMO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT_DIR = resolve(DEMO_DIR, '../..');
const NEXT_BIN = join(ROOT_DIR, 'node_modules/next/dist/bin/next');

/** Newest modification time under `path` (a file or a directory tree). */
function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Whether `distDir` holds a production build newer than every source it was built from. */
export function buildIsFresh(distDir = '.next'): boolean {
  const buildId = join(DEMO_DIR, distDir, 'BUILD_ID');
  if (!existsSync(buildId)) return false;
  const built = statSync(buildId).mtimeMs;
  const sources = [
    ...[
      'app',
      'components',
      'lib',
      'instrumentation.ts',
      'next.config.ts',
      'package.json',
      'tsconfig.json',
    ].map((p) => join(DEMO_DIR, p)),
    join(ROOT_DIR, 'packages/tandem/src'),
    join(ROOT_DIR, 'packages/tandem/package.json'),
  ];
  return sources.every((source) => newestMtime(source) < built);
}

function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [NEXT_BIN, ...args], { cwd: DEMO_DIR, env, stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`next ${args[0]} timed out after ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise();
      else reject(new Error(`next ${args[0]} exited with ${code}\n${output}`));
    });
  });
}

const baseEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NEXT_TELEMETRY_DISABLED: '1',
    NODE_ENV: 'production',
    // A cut refuses streams for 8 s instead of 5: events published during the outage must come
    // through the poller (every 3 s, plus up to 1 s of jitter) before the stream returns, even on
    // a busy machine.
    DEMO_CUT_REFUSAL_MS: '8000',
  };
  // The e2e suite runs on the in-memory broker.
  delete env.REDIS_URL;
  return env;
};

/**
 * The settings that make `next build` and `next start` use `distDir` instead of `.next`: a test
 * that must not share the build of the others (it rebuilds while they serve) names its own.
 * Its tsconfig extends the demo's, and Next.js adds that folder's types to it, not to the demo's.
 */
function distEnv(distDir: string): Record<string, string> {
  if (distDir === '.next') return {};
  const tsconfig = `tsconfig.${distDir.replace(/^\./, '')}.json`;
  const base = JSON.parse(readFileSync(join(DEMO_DIR, 'tsconfig.json'), 'utf8')) as { include: string[] };
  const include = [
    ...base.include.filter((pattern) => !pattern.startsWith('.next/')),
    `${distDir}/types/**/*.ts`,
    `${distDir}/dev/types/**/*.ts`,
  ];
  writeFileSync(
    join(DEMO_DIR, tsconfig),
    `${JSON.stringify({ extends: './tsconfig.json', include }, null, 2)}\n`,
  );
  return { DEMO_DIST_DIR: distDir, DEMO_TSCONFIG: tsconfig };
}

/**
 * Runs `next build` into `distDir` unless a fresh production build is already there. Test files
 * run in parallel and several serve the same build: one builds while the others wait for its
 * lock (`next build` refuses to run twice into one folder), then find the build fresh.
 */
export async function ensureBuild(distDir = '.next'): Promise<void> {
  const lock = join(DEMO_DIR, `${distDir}.build-lock`);
  let failed: unknown;
  // Taken when its folder is made; a lock left by a run that was killed is dropped (no build
  // takes ten minutes).
  await vi.waitFor(
    () => {
      try {
        mkdirSync(lock);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          failed = error; // not a held lock: no use waiting
          return;
        }
        const held = statSync(lock, { throwIfNoEntry: false });
        if (held && Date.now() - held.mtimeMs > 600_000) rmSync(lock, { force: true, recursive: true });
        throw new Error(`${lock} is held by another test file's build`);
      }
    },
    { timeout: 600_000, interval: 250 },
  );
  if (failed) throw failed;
  try {
    if (buildIsFresh(distDir)) return;
    await run(['build'], { ...baseEnv(), ...distEnv(distDir) }, 280_000);
  } finally {
    rmSync(lock, { force: true, recursive: true });
  }
}

export interface DemoServer {
  url: string;
  /** The `next start` process. */
  pid: number;
  /** Resolves with its exit code (null when a signal ended it) once it exited. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** The port to listen on (a restart takes the port of the process it replaces), else a free one. */
  port?: number;
  /** The build to serve (see `ensureBuild`). */
  distDir?: string;
}

/** `next start` on a loopback port; resolves once the page answers. `env` adds settings. */
export async function startDemo(
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<DemoServer> {
  const port = options.port ?? (await freePort());
  const distDir = options.distDir ?? '.next';
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    process.execPath,
    [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'],
    {
      cwd: DEMO_DIR,
      env: { ...baseEnv(), ...distEnv(distDir), ...env },
      stdio: 'pipe',
      detached: true,
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolvePromise) =>
    child.once('exit', (code) => resolvePromise(code)),
  );
  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      const killed = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!killed) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }
    }
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}\n${output}`);
    try {
      const response = await fetch(`${url}/api/demo/token?tenant=acme`);
      if (response.ok) return { url, pid: child.pid!, exited, stop };
    } catch {}
    await sleep(100);
  }
  await stop();
  throw new Error(`next start did not answer within 30 s\n${output}`);
}

/** Debian's Chromium with a fresh profile, sized for the dashboard's screenshots. */
export function launchBrowser(): Promise<TestBrowser> {
  return launchChromium({ viewport: { width: 1440, height: 960 } });
}

export type { Browser };

/** What `demoForFile` starts: the server, the browser, and the demo's API on that server. */
export interface Demo {
  server: DemoServer;
  browser: TestBrowser;
  api: DemoApi;
}

/**
 * The demo for the tests of one file: the production build served by `next start` and Debian's
 * Chromium with the render probe, started before the file's tests and stopped after them. The
 * fields are set once `beforeAll` ran, so read them inside tests.
 */
export function demoForFile(): Demo {
  const demo = {} as Demo;
  beforeAll(async () => {
    await ensureBuild();
    demo.server = await startDemo();
    demo.api = new DemoApi(demo.server.url);
    demo.browser = await launchBrowser();
    await demo.browser.context.addInitScript(renderProbe);
  }, 320_000);
  afterAll(async () => {
    await demo.browser?.close();
    await demo.server?.stop();
  });
  return demo;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

/** The q-quantile of `values` (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** An order row as the page rendered it (see `renderProbe`). */
export interface Rendered {
  tenant: string | null;
  channel: string;
  offset: number;
  ts: number;
  /** When the row entered the DOM (ms, wall clock). */
  at: number;
  /** The tenant's pill when the row appeared. */
  pill: string | null;
  source: string;
}

/** The event `POST /api/demo/orders` answers with. */
export interface Published {
  offset: number;
  /** Publish time (ms, wall clock of the server). */
  ts: number;
  channel: string;
}

declare global {
  interface Window {
    __rendered: Rendered[];
  }
}

/** Runs in the page before its scripts: records each order row the moment React commits it. */
export function renderProbe() {
  window.__rendered = [];
  new MutationObserver((records) => {
    const at = Date.now();
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (!(node instanceof HTMLElement)) continue;
        const rows = node.matches('li[data-testid="order"]')
          ? [node]
          : Array.from(node.querySelectorAll<HTMLElement>('li[data-testid="order"]'));
        for (const row of rows) {
          const panel = row.closest('[data-tenant]');
          window.__rendered.push({
            tenant: panel?.getAttribute('data-tenant') ?? null,
            channel: row.dataset.channel ?? '',
            offset: Number(row.dataset.offset),
            ts: Number(row.dataset.ts),
            at,
            pill: panel?.querySelector('[data-testid="status"]')?.getAttribute('data-state') ?? null,
            source: row.querySelector('.via')?.textContent ?? '',
          });
        }
      }
    }
  }).observe(document, { childList: true, subtree: true });
}

/** The demo's HTTP API as a tenant's operator: tokens (cached per tenant) and publishing. */
export class DemoApi {
  readonly #tokens = new Map<string, string>();
  constructor(readonly url: string) {}

  async token(tenant: string): Promise<string> {
    let value = this.#tokens.get(tenant);
    if (!value) {
      const response = await fetch(`${this.url}/api/demo/token?tenant=${tenant}`);
      value = ((await response.json()) as { token: string }).token;
      this.#tokens.set(tenant, value);
    }
    return value;
  }

  /** The tenant's channel head: how many orders were published on it (this epoch). */
  async head(tenant: string): Promise<number> {
    const response = await fetch(`${this.url}/api/demo/stats`, {
      headers: { Authorization: `Bearer ${await this.token(tenant)}` },
    });
    return ((await response.json()) as { head: number }).head;
  }

  /** Publishes an order through `POST /api/demo/orders`; throws unless it answers 201. */
  async publish(tenant: string, order: Record<string, unknown> = {}): Promise<Published> {
    const response = await fetch(`${this.url}/api/demo/orders?source=api`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await this.token(tenant)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(order),
    });
    if (response.status !== 201)
      throw new Error(`publish answered ${response.status}: ${await response.text()}`);
    return ((await response.json()) as { event: Published }).event;
  }
}

/** Waits until the tenant's status pill shows one of `states`. */
export function waitForPill(page: Page, tenant: string, states: string[], timeout = 15_000) {
  return page.waitForFunction(
    ([t, s]) =>
      s.includes(
        document.querySelector(`[data-tenant="${t}"] [data-testid="status"]`)?.getAttribute('data-state') ??
          '',
      ),
    [tenant, states] as const,
    { timeout, polling: 20 },
  );
}

/** Waits until the tenant's panel has rendered every one of `offsets`. */
export function waitForOffsets(page: Page, tenant: string, offsets: number[], timeout = 15_000) {
  return page.waitForFunction(
    ([t, wanted]) => {
      const seen = new Set(window.__rendered.filter((r) => r.tenant === t).map((r) => r.offset));
      return wanted.every((offset) => seen.has(offset));
    },
    [tenant, offsets] as const,
    { timeout, polling: 10 },
  );
}
