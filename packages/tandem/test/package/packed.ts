import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectSnippets, type PlacedFile, placeSnippets, type Skipped, writeSnippets } from './snippets';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const PACKAGE_DIR = join(ROOT, 'packages/tandem');
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** A child's environment without npm's `npm_*` variables (they would configure a nested npm). */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_')) env[key] = value;
  }
  return { ...env, NEXT_TELEMETRY_DISABLED: '1', ...extra };
}

/** Runs a command to its end; rejects with its output when it fails or outlives `timeoutMs`. */
export function run(
  file: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? childEnv(),
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
        else resolvePromise(stdout);
      },
    );
  });
}

/** The version of a package installed in the workspace (so that npm finds it in its cache). */
export function workspaceVersion(name: string): string {
  const manifest = join(ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** The package's subpaths, from its `exports`: `./server`, `./client`… */
export function subpaths(): string[] {
  const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
    exports: Record<string, unknown>;
  };
  return Object.keys(manifest.exports).filter((subpath) => subpath !== './package.json');
}

/** What the docs' code blocks import besides Tandem and its peers (the workspace has each). */
const SNIPPET_LIBRARIES = ['express', 'hono', '@hono/node-server', 'zod', '@tanstack/react-query', 'pg'];
const SNIPPET_TYPES = ['@types/express', '@types/pg'];

const PREFIX = 'tandem-package-';

/** Folders left by runs that were killed before their cleanup (a day old: no run lasts that long). */
function removeStale(): void {
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const path = join(tmpdir(), name);
    try {
      if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed meanwhile by another run.
    }
  }
}

export interface DocSnippets {
  placed: PlacedFile[];
  skipped: Skipped[];
  /** A malformed annotation in a document: the blocks' test fails with it, the others run. */
  error?: Error;
}

/** The blocks of the docs, as files of the consumer project. */
function writeDocSnippets(consumer: string): DocSnippets {
  try {
    const { snippets, skipped } = collectSnippets(ROOT);
    const placed = placeSnippets(snippets);
    writeSnippets(consumer, placed);
    return { placed, skipped };
  } catch (error) {
    return { placed: [], skipped: [], error: error as Error };
  }
}

export interface Packed {
  /** The temporary folder holding everything below, outside the workspace. */
  dir: string;
  /** The tarball `npm pack` made. */
  tarball: string;
  /** Paths inside the tarball, `package/` removed. */
  files: string[];
  /** The package as built and packed (package.json, dist, README, LICENSE). */
  packageDir: string;
  /** A project that installed the tarball, with the fixtures copied in. */
  consumer: string;
  /** The TypeScript blocks of README.md and docs/, written into the consumer (see snippets.ts). */
  snippets: DocSnippets;
  /** Removes it all (hundreds of megabytes: Next.js and its build). */
  close(): Promise<void>;
}

/**
 * Builds the package with its own configuration into a temporary folder (never the workspace's
 * `dist`, which a second run of the suite could be rewriting), packs it, and installs the tarball
 * into a new project outside the workspace, with the workspace's versions of Next.js, React and
 * TypeScript so that npm serves them from its cache.
 */
export async function packAndInstall(): Promise<Packed> {
  removeStale();
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  try {
    const packageDir = join(dir, 'tandem');
    mkdirSync(packageDir);
    const tsdown = join(ROOT, 'node_modules/tsdown/dist/run.mjs');
    await run(process.execPath, [tsdown, '--out-dir', join(packageDir, 'dist')], {
      cwd: PACKAGE_DIR,
      timeoutMs: 180_000,
    });
    for (const file of ['package.json', 'README.md', 'LICENSE']) {
      cpSync(join(PACKAGE_DIR, file), join(packageDir, file));
    }
    const packed = JSON.parse(
      await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
        cwd: packageDir,
      }),
    ) as { filename: string; files: { path: string }[] }[];
    const [manifest] = packed;
    if (!manifest) throw new Error('npm pack reported no tarball');
    const tarball = join(dir, manifest.filename);

    const consumer = join(dir, 'consumer');
    cpSync(FIXTURES, consumer, { recursive: true });
    const snippets = writeDocSnippets(consumer);
    const version = (name: string) => [name, workspaceVersion(name)];
    writeFileSync(
      join(consumer, 'package.json'),
      `${JSON.stringify(
        {
          name: 'tandem-consumer',
          private: true,
          scripts: { build: 'next build', start: 'next start' },
          dependencies: {
            tandem: `file:${tarball}`,
            ...Object.fromEntries(
              ['next', 'react', 'react-dom', 'redis', 'jose', 'prom-client', ...SNIPPET_LIBRARIES].map(
                version,
              ),
            ),
          },
          devDependencies: Object.fromEntries(
            ['typescript', '@types/node', '@types/react', '@types/react-dom', ...SNIPPET_TYPES].map(version),
          ),
        },
        null,
        2,
      )}\n`,
    );
    await run(
      'npm',
      ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
      {
        cwd: consumer,
        timeoutMs: 300_000,
      },
    );
    return {
      dir,
      tarball,
      files: manifest.files.map((file) => file.path),
      packageDir,
      consumer,
      snippets,
      close: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A child process whose stdout is JSON lines, collected as they come. */
export interface JsonChild {
  process: ChildProcess;
  lines: Record<string, unknown>[];
  /** Everything it printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export function spawnJson(
  file: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): JsonChild {
  const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? childEnv(), stdio: 'pipe' });
  const lines: Record<string, unknown>[] = [];
  let output = '';
  let pending = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    output += chunk;
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
      newline = pending.indexOf('\n');
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    output += chunk;
  });
  return {
    process: child,
    lines,
    output: () => output,
    stop: () =>
      new Promise((resolveStop) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
        child.once('exit', () => resolveStop());
        child.kill('SIGKILL');
      }),
  };
}
