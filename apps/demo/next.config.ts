import { readFileSync } from 'node:fs';
import type { NextConfig } from 'next';

/**
 * Tandem is used from its TypeScript sources, without a build step: each subpath is aliased to
 * the file its `tandem-source` export condition names (Turbopack has no option for custom
 * conditions; an app installing the package resolves `import` to the built files instead).
 */
function tandemSources(): Record<string, string> {
  const manifest = new URL('../../packages/tandem/package.json', import.meta.url);
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, string | { 'tandem-source'?: string }>;
  };
  const aliases: Record<string, string> = {};
  for (const [subpath, target] of Object.entries(exports)) {
    if (typeof target === 'object' && target['tandem-source']) {
      aliases[`tandem${subpath.slice(1)}`] = `../../packages/tandem/${target['tandem-source'].slice(2)}`;
    }
  }
  return aliases;
}

const config: NextConfig = {
  // Next 16's defaults, as create-next-app writes them: route handlers run per request unless
  // they can be prerendered, and Tandem's need no segment config (see docs/react.md).
  cacheComponents: true,
  partialPrefetching: true,
  reactStrictMode: true,
  turbopack: { resolveAlias: tandemSources() },
  // The Redis client stays a plain Node dependency instead of being bundled.
  serverExternalPackages: ['redis', '@redis/client'],
  // Compression is on: Next's gzip middleware skips responses marked `Cache-Control:
  // no-transform`, which every Tandem response is, so the event stream is never buffered.
  poweredByHeader: false,
  // A test that restarts the demo builds into a folder of its own (with a tsconfig of its own,
  // which Next.js extends with that folder's types), so it never rebuilds what another test's
  // `next start` is serving.
  distDir: process.env.DEMO_DIST_DIR || '.next',
  typescript: { tsconfigPath: process.env.DEMO_TSCONFIG || 'tsconfig.json' },
};

export default config;
