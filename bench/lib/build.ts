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

/** Bundles `bench/servers/main.ts` into `bench/results/build/` and returns the entry file. */
export async function buildServers(): Promise<string> {
  const outdir = path.join(root, 'bench/results/build');
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { main: path.join(root, 'bench/servers/main.ts') },
    outdir,
    bundle: true,
    // Each server kind is a chunk of its own, loaded only by its process.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Packages (better-sse, socket.io, prom-client, jose, redis) stay imports, resolved from
    // node_modules; Tandem, imported by path, is bundled.
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
  return path.join(outdir, 'main.mjs');
}
