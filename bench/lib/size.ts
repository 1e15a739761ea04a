/**
 * What Tandem costs a browser bundle: the import bundled, minified and gzipped as an app's
 * bundler would ship it (esbuild, ES2022, tree-shaken, code split at dynamic imports; React
 * stays the app's), and which modules the bytes come from. The budgets are on the initial
 * bundle (what the page loads before the client runs); chunks loaded on demand (tab sharing,
 * where the browser can share) are reported beside it. Sizes are deterministic, so the budgets
 * are checked by a test.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Budgets in bytes of minified and gzipped JavaScript (1 KB = 1 000 bytes). */
export const SIZE_BUDGETS = {
  /** `createLiveClient` with its transports: the initial bundle. */
  client: 10_000,
  /** All of `tandem/react`, on top of the client. */
  reactOnTop: 2_500,
};

/**
 * What the client's initial bundle may not exceed while `SIZE_BUDGETS.client` is not met: the
 * figure reached so far and a little room, so that what was saved is not lost again unnoticed.
 */
export const SIZE_CEILINGS = {
  client: 12_750,
};

/** What is bundled for each figure. */
export const SIZE_ENTRIES = {
  client: "export { createLiveClient } from 'tandem/client';",
  clientSubpath: "export * from 'tandem/client';",
  clientAndReact: "export { createLiveClient } from 'tandem/client';\nexport * from 'tandem/react';",
};

export interface ChunkSize {
  /** The module a chunk loaded on demand starts from (the target of the `import()`). */
  name?: string;
  minified: number;
  gzip: number;
  /** Brotli at its highest quality, as a server that precompresses sends it. */
  brotli: number;
  /** How many files: each is a request of its own, and each is compressed on its own. */
  files: number;
  /** Bytes each module adds to the minified output, largest first. */
  modules: { path: string; bytes: number }[];
}

export interface BundleSize extends ChunkSize {
  /** Chunks loaded on demand (`import()`), each gzipped on its own as a server sends it. */
  lazy: ChunkSize[];
}

const ENTRY = 'entry.js';

/**
 * Bundles `code` (which imports `tandem/…`) for the browser. `source` resolves Tandem to its
 * TypeScript sources through the `tandem-source` condition; otherwise to the built `dist`.
 */
export async function bundleSize(code: string, options: { source?: boolean } = {}): Promise<BundleSize> {
  const result = await build({
    stdin: { contents: code, resolveDir: root, loader: 'js', sourcefile: ENTRY },
    bundle: true,
    minify: true,
    format: 'esm',
    splitting: true,
    outdir: path.join(root, 'size-out'),
    platform: 'browser',
    target: 'es2022',
    conditions: options.source === false ? [] : ['tandem-source'],
    external: ['react', 'react-dom', 'react/jsx-runtime'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const outputs = result.metafile.outputs;
  const contents = new Map(
    result.outputFiles.map((file) => [
      path.relative(root, file.path).split(path.sep).join('/'),
      file.contents,
    ]),
  );
  const entry = Object.keys(outputs).find((file) => outputs[file]?.entryPoint !== undefined);
  if (!entry) throw new Error('esbuild wrote no entry chunk');
  // The initial bundle: the entry and what it imports statically; the rest loads on demand.
  const initial = new Set<string>();
  const visit = (file: string) => {
    if (initial.has(file)) return;
    initial.add(file);
    for (const ref of outputs[file]?.imports ?? []) if (ref.kind === 'import-statement') visit(ref.path);
  };
  visit(entry);
  const chunk = (files: string[]): ChunkSize => {
    const bytes = files.map((file) => contents.get(file) ?? new Uint8Array());
    return {
      minified: bytes.reduce((sum, b) => sum + b.byteLength, 0),
      gzip: bytes.reduce((sum, b) => sum + gzipSync(b, { level: 9 }).byteLength, 0),
      brotli: bytes.reduce((sum, b) => sum + brotliSize(b), 0),
      files: files.length,
      modules: modulesOf(outputs, files),
    };
  };
  const lazy = Object.keys(outputs)
    .filter((file) => file.endsWith('.js') && !initial.has(file))
    .map((file) => ({ ...chunk([file]), name: shortPath(outputs[file]?.entryPoint ?? file) }));
  return { ...chunk([...initial]), lazy };
}

function brotliSize(bytes: Uint8Array): number {
  return brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).byteLength;
}

function modulesOf(outputs: Metafile['outputs'], files: string[]): ChunkSize['modules'] {
  return files
    .flatMap((file) => Object.entries(outputs[file]?.inputs ?? {}))
    .map(([file, input]) => ({
      path: file.replace(/^.*?packages\/tandem\//, ''),
      bytes: input.bytesInOutput,
    }))
    .filter((module) => module.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
}

const shortPath = (file: string) => file.replace(/^.*?packages\/tandem\//, '');

export interface SizeReport {
  client: BundleSize;
  clientSubpath: BundleSize;
  clientAndReact: BundleSize;
  /** Gzipped bytes `tandem/react` adds to the client's initial bundle. */
  reactOnTop: number;
  /** The same with brotli. */
  reactOnTopBrotli: number;
}

export async function sizeReport(options: { source?: boolean } = {}): Promise<SizeReport> {
  const [client, clientSubpath, clientAndReact] = await Promise.all([
    bundleSize(SIZE_ENTRIES.client, options),
    bundleSize(SIZE_ENTRIES.clientSubpath, options),
    bundleSize(SIZE_ENTRIES.clientAndReact, options),
  ]);
  return {
    client,
    clientSubpath,
    clientAndReact,
    reactOnTop: clientAndReact.gzip - client.gzip,
    reactOnTopBrotli: clientAndReact.brotli - client.brotli,
  };
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(2)} KB`;

/** The figures as Markdown, with the heaviest modules of the client. */
export function formatSizeReport(report: SizeReport, top = 8): string {
  const row = (name: string, size: number, brotli: number, budget: number | null) =>
    `| ${name} | ${kb(size)} | ${kb(brotli)} | ${budget === null ? '—' : `${kb(budget)} ${size <= budget ? 'met' : `over by ${kb(size - budget)}`}`} |`;
  const files = (n: number) => (n === 1 ? '' : `, ${n} files`);
  const lazy = report.client.lazy;
  const heaviest = (chunk: ChunkSize) => chunk.modules.slice(0, top).map((m) => `- ${m.path}: ${m.bytes}`);
  return [
    '| bundle (minified) | gzip | brotli | budget (gzip) |',
    '|---|---|---|---|',
    row(
      `\`createLiveClient\` with its transports (initial${files(report.client.files)})`,
      report.client.gzip,
      report.client.brotli,
      SIZE_BUDGETS.client,
    ),
    ...lazy.map((chunk) => row(`… loaded on demand: \`${chunk.name}\``, chunk.gzip, chunk.brotli, null)),
    row(
      `all of \`tandem/client\` (initial${files(report.clientSubpath.files)})`,
      report.clientSubpath.gzip,
      report.clientSubpath.brotli,
      null,
    ),
    row(
      '`tandem/react` on top of the client',
      report.reactOnTop,
      report.reactOnTopBrotli,
      SIZE_BUDGETS.reactOnTop,
    ),
    '',
    `Heaviest modules of \`createLiveClient\` (minified bytes, before gzip; ${report.client.minified} in all):`,
    '',
    ...heaviest(report.client),
    ...lazy.flatMap((chunk) => [
      '',
      `Heaviest modules of \`${chunk.name}\`, loaded on demand (${chunk.minified} in all):`,
      '',
      ...heaviest(chunk),
    ]),
  ].join('\n');
}
