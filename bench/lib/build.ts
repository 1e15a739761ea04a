/**
 * Builds Tandem's server and Redis broker into plain JavaScript for the benchmark, as an app
 * would ship them. Running the TypeScript sources through tsx instead would handicap Tandem
 * against peers that run compiled code: tsx keeps function names with a helper that redefines
 * `name` on every closure it creates, which turns each such closure into a dictionary-mode
 * object (about 1 KB per connection here) and costs a call per closure.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Bundles into `bench/results/build/` and returns that directory. */
export async function buildTandem(): Promise<string> {
  const outdir = path.join(root, 'bench/results/build');
  await build({
    entryPoints: {
      server: path.join(root, 'packages/tandem/src/server/index.ts'),
      redis: path.join(root, 'packages/tandem/src/redis/index.ts'),
    },
    outdir,
    bundle: true,
    // One copy of shared modules for both entries, as in the package.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Dependencies (prom-client, jose, redis) stay imports, resolved from node_modules.
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
  return outdir;
}
