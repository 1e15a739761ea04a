import { existsSync } from 'node:fs';
import { defineConfig } from 'tsdown';

/** The package's subpaths: `tandem/<name>` is built from `src/<name>/index.ts`. */
const SUBPATHS = ['protocol', 'server', 'client', 'react', 'redis', 'jwt', 'prometheus'];

/** Where a subpath's published entry differs from its folder's index (the door for sibling folders). */
const PUBLIC_ENTRY: Record<string, string> = { protocol: 'src/protocol/public.ts' };

const entry: Record<string, string> = {};
for (const name of SUBPATHS) {
  const file = PUBLIC_ENTRY[name] ?? `src/${name}/index.ts`;
  if (existsSync(new URL(file, import.meta.url))) entry[name] = file;
}

export default defineConfig({
  entry,
  // ES modules, and CommonJS for `require` on every Node version the package supports.
  format: ['esm', 'cjs'],
  platform: 'neutral',
  target: 'es2022',
  // Node's built-in modules stay imports (the Node adapter and the Redis scripts use them).
  deps: { neverBundle: [/^node:/] },
  dts: true,
  clean: true,
  // `exports` in package.json is written by hand: its `tandem-source` condition comes first.
  exports: false,
  inputOptions: { checks: { pluginTimings: false } },
});
