/**
 * Builds the server processes (bench/servers, Tandem's sources included) into plain JavaScript,
 * as an app would ship them, and runs them with plain node. Running TypeScript through tsx
 * instead would handicap Tandem and the bare floor against peers that run compiled code from
 * node_modules: tsx keeps function names with a helper that redefines `name` on every closure
 * it creates, which turns each such closure into a dictionary-mode object (about 1 KB per
 * connection for Tandem here) and costs a call per closure.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Bundles `source` (a path from the repository's root) into `bench/results/<folder>/`, as
 * `<name of source>.mjs`, and returns that file. Packages stay imports, resolved from
 * node_modules; Tandem, imported by path, is bundled. `splitting` makes each dynamic import a
 * chunk of its own; the folder is emptied first, so no stale chunk is left beside them.
 */
export async function buildEntry(source: string, folder: string, splitting = false): Promise<string> {
  const outdir = path.join(root, 'bench/results', folder);
  const name = path.basename(source, '.ts');
  if (splitting) rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { [name]: path.join(root, source) },
    outdir,
    bundle: true,
    splitting,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
  return path.join(outdir, `${name}.mjs`);
}

/**
 * Bundles `bench/servers/main.ts` into `bench/results/build/` and returns the entry file. Each
 * server kind is a chunk of its own, loaded only by its process; packages (better-sse,
 * socket.io, prom-client, jose, redis) stay imports.
 */
export function buildServers(): Promise<string> {
  return buildEntry('bench/servers/main.ts', 'build', true);
}
