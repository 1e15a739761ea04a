/**
 * Bun and Deno for the tests that run a hub on them, installed on first use rather than with the
 * workspace: their npm packages carry each runtime's binary (about 100 MB apiece), which every
 * `npm install` of the workspace would otherwise download for two test files.
 *
 * Each version goes into a folder of the system's temporary directory, once per machine: it is
 * installed into a folder of its own and renamed into place, so test files that ask at the same
 * time never see half an install (the loser of the rename uses the winner's).
 */
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, run } from '../package/packed';

/** The versions the tests run on. */
export const RUNTIME_VERSIONS = { bun: '1.4.5', deno: '2.9.6' } as const;

export type Runtime = keyof typeof RUNTIME_VERSIONS;

const installs = new Map<Runtime, Promise<string>>();

/** The path of the runtime's executable, installed on first use. */
export function runtimeBinary(runtime: Runtime): Promise<string> {
  let install = installs.get(runtime);
  if (!install) {
    install = installRuntime(runtime);
    installs.set(runtime, install);
  }
  return install;
}

async function installRuntime(runtime: Runtime): Promise<string> {
  const version = RUNTIME_VERSIONS[runtime];
  const home = join(tmpdir(), `tandem-runtime-${runtime}-${version}`);
  const binary = join(home, 'node_modules/.bin', runtime);
  if (existsSync(binary)) return binary;
  const staging = mkdtempSync(`${home}-`);
  try {
    // The package's install script links its binary: allowed by name, as the workspace would.
    writeFileSync(
      join(staging, 'package.json'),
      JSON.stringify({ private: true, allowScripts: { [runtime]: true } }),
    );
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `${runtime}@${version}`], {
      cwd: staging,
      env: childEnv(),
      timeoutMs: 300_000,
    });
    try {
      renameSync(staging, home);
    } catch (error) {
      // Another test file installed it meanwhile: use theirs.
      if (!existsSync(binary)) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return binary;
}
