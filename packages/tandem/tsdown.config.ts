import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsdown';

/**
 * One entry per subpath of `exports`, built from the file its `tandem-source` condition names
 * (what the workspace runs), so the build and the sources cannot disagree: `./server` →
 * `dist/server.js`, `dist/server.cjs` and their declarations.
 */
const manifest = JSON.parse(readFileSync(new URL('package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | { 'tandem-source'?: string }>;
};
const entry: Record<string, string> = {};
for (const [subpath, target] of Object.entries(manifest.exports)) {
  if (typeof target === 'object' && target['tandem-source'])
    entry[subpath.slice(2)] = target['tandem-source'];
}
// The `tandem` command (`bin` in package.json): `dist/cli.js`, which keeps its `#!` line.
entry.cli = './src/cli/bin.ts';

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
