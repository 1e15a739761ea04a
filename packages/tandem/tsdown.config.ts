import { readFileSync } from 'node:fs';
import { defineConfig, type UserConfig } from 'tsdown';

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
const shared: UserConfig = {
  platform: 'neutral',
  target: 'es2022',
  // Node's built-in modules stay imports (the Node adapter and the Redis scripts use them).
  deps: { neverBundle: [/^node:/] },
  clean: true,
  // `exports` in package.json is written by hand: its `tandem-source` condition comes first.
  exports: false,
  inputOptions: { checks: { pluginTimings: false } },
};

export default defineConfig([
  // ES modules, and CommonJS for `require` on every Node version the package supports.
  {
    ...shared,
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    // The bundler's interop helpers in a chunk of their own: left to themselves they land in the
    // first entry that needs them (`postgres.cjs`), and every other CommonJS entry then
    // required that one, and with it `pg`, an optional peer.
    outputOptions: { codeSplitting: { groups: [{ name: 'runtime', test: /rolldown[\\/]runtime/ }] } },
  },
  // The `tandem` command (`bin` in package.json): `dist/cli.js`, which keeps its `#!` line. An
  // ES module only, built apart: in one CommonJS build with the subpaths, the command's lazy
  // `import('../postgres')` made the bundler export its interop helper from `postgres.cjs`.
  { ...shared, entry: { cli: './src/cli/bin.ts' }, format: ['esm'], dts: false },
]);
