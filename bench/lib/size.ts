/**
 * What Tandem costs a browser bundle: the import bundled, minified and gzipped as an app's
 * bundler would ship it (esbuild, ES2022, tree-shaken; React stays the app's), and which modules
 * the bytes come from. Sizes are deterministic, so the budgets are checked by a test.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Budgets in bytes of minified and gzipped JavaScript (1 KB = 1 000 bytes). */
export const SIZE_BUDGETS = {
  /** `createLiveClient` with its transports. */
  client: 6_000,
  /** All of `tandem/react`, on top of the client. */
  reactOnTop: 2_500,
};

/** What is bundled for each figure. */
export const SIZE_ENTRIES = {
  client: "export { createLiveClient } from 'tandem/client';",
  clientSubpath: "export * from 'tandem/client';",
  clientAndReact: "export { createLiveClient } from 'tandem/client';\nexport * from 'tandem/react';",
};

export interface BundleSize {
  minified: number;
  gzip: number;
  /** Bytes each module adds to the minified output, largest first. */
  modules: { path: string; bytes: number }[];
}

/**
 * Bundles `code` (which imports `tandem/…`) for the browser. `source` resolves Tandem to its
 * TypeScript sources through the `tandem-source` condition; otherwise to the built `dist`.
 */
export async function bundleSize(code: string, options: { source?: boolean } = {}): Promise<BundleSize> {
  const result = await build({
    stdin: { contents: code, resolveDir: root, loader: 'js', sourcefile: 'entry.js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: options.source === false ? [] : ['tandem-source'],
    external: ['react', 'react-dom', 'react/jsx-runtime'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error('esbuild wrote nothing');
  const [meta] = Object.values(result.metafile.outputs);
  const modules = Object.entries(meta?.inputs ?? {})
    .map(([file, input]) => ({
      path: file.replace(/^.*?packages\/tandem\//, ''),
      bytes: input.bytesInOutput,
    }))
    .filter((module) => module.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
  return {
    minified: output.contents.byteLength,
    gzip: gzipSync(output.contents, { level: 9 }).byteLength,
    modules,
  };
}

export interface SizeReport {
  client: BundleSize;
  clientSubpath: BundleSize;
  clientAndReact: BundleSize;
  /** Gzipped bytes `tandem/react` adds to the client. */
  reactOnTop: number;
}

export async function sizeReport(options: { source?: boolean } = {}): Promise<SizeReport> {
  const [client, clientSubpath, clientAndReact] = await Promise.all([
    bundleSize(SIZE_ENTRIES.client, options),
    bundleSize(SIZE_ENTRIES.clientSubpath, options),
    bundleSize(SIZE_ENTRIES.clientAndReact, options),
  ]);
  return { client, clientSubpath, clientAndReact, reactOnTop: clientAndReact.gzip - client.gzip };
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(2)} KB`;

/** The figures as Markdown, with the heaviest modules of the client. */
export function formatSizeReport(report: SizeReport, top = 8): string {
  const row = (name: string, size: number, budget: number | null) =>
    `| ${name} | ${kb(size)} | ${budget === null ? '—' : `${kb(budget)} ${size <= budget ? 'met' : `over by ${kb(size - budget)}`}`} |`;
  return [
    '| bundle (min+gzip) | size | budget |',
    '|---|---|---|',
    row('`createLiveClient` with its transports', report.client.gzip, SIZE_BUDGETS.client),
    row('all of `tandem/client`', report.clientSubpath.gzip, null),
    row('`tandem/react` on top of the client', report.reactOnTop, SIZE_BUDGETS.reactOnTop),
    '',
    `Heaviest modules of \`createLiveClient\` (minified bytes, before gzip; ${report.client.minified} in all):`,
    '',
    ...report.client.modules.slice(0, top).map((module) => `- ${module.path}: ${module.bytes}`),
  ].join('\n');
}
