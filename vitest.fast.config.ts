/**
 * The fast tier (`npm run test:fast`): the pure, fake-time and single-process tests, for the
 * inner loop. `npm test` still runs everything.
 *
 * A test file is left out when it, or a local module it imports (followed transitively), starts
 * another process: a browser, a redis-server, PostgreSQL, nginx, a child hub, a packed package.
 * That is read from the sources, so a new test lands in the right tier by itself. A few tests run
 * in this process but take many seconds of real time (soaks and stalls); they are named below.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';

const ROOT = dirname(fileURLToPath(import.meta.url));

/** Single-process tests that still take seconds of real time each. */
const SLOW_IN_PROCESS = [
  'packages/tandem/test/client/faults.test.ts',
  'packages/tandem/test/client/auth.test.ts',
  'packages/tandem/test/client/watchdog-stall.test.ts',
  'packages/tandem/test/client/polling.test.ts',
  'packages/tandem/test/server/stalled-replay.test.ts',
  'packages/tandem/test/server/churn.test.ts',
];

/** What starting another process looks like in a test's sources. */
const STARTS_A_PROCESS = /node:child_process|playwright-core/;

const TEST_DIRS = ['packages/tandem/test', 'apps/demo/test', 'bench/test', 'examples'];

function files(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    if (name === 'node_modules' || name === 'fixtures') return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const IMPORT = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** Whether `file` or a relative module it imports starts a process. */
function startsProcess(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  if (STARTS_A_PROCESS.test(source)) return true;
  for (const [, specifier] of source.matchAll(IMPORT)) {
    const target = resolve(dirname(file), specifier!);
    // Only the tests' own helpers and the repository's scripts: the sources under test start nothing.
    if (![...TEST_DIRS, 'packages/tandem/scripts'].some((dir) => target.startsWith(join(ROOT, dir))))
      continue;
    const candidates = [target, `${target}.ts`, `${target}.tsx`, join(target, 'index.ts')];
    const found = candidates.find((candidate) => {
      try {
        return statSync(candidate).isFile();
      } catch {
        return false;
      }
    });
    if (found && startsProcess(found, seen)) return true;
  }
  return false;
}

const slow = TEST_DIRS.flatMap((dir) => files(join(ROOT, dir)))
  .filter((file) => /\.test\.tsx?$/.test(file))
  .map((file) => relative(ROOT, file))
  .filter((file) => SLOW_IN_PROCESS.includes(file) || startsProcess(join(ROOT, file)));

export default mergeConfig(base, defineConfig({ test: { exclude: ['**/node_modules/**', ...slow] } }));
