import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../src/', import.meta.url);

/** Node-only modules imported by a file, and the places it names the `Buffer` global. */
function nodeTies(file: URL): string[] {
  const source = ts.createSourceFile(file.pathname, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const ties: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      const from = (node.moduleSpecifier as ts.StringLiteral).text;
      const typeOnly = ts.isImportDeclaration(node) ? node.importClause?.isTypeOnly : node.isTypeOnly;
      if (from.startsWith('node:') && !typeOnly) ties.push(`imports ${from}`);
    }
    if (ts.isIdentifier(node) && node.text === 'Buffer')
      ties.push(`Buffer at line ${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return ties;
}

describe('runtime-neutral core', () => {
  it('only the Node adapter ties the server to Node (no node:buffer, no Buffer)', () => {
    const found: Record<string, string[]> = {};
    for (const dir of ['server', 'broker', 'protocol', 'jwt']) {
      for (const name of readdirSync(new URL(dir, SRC))) {
        if (
          !name.endsWith('.ts') ||
          (dir === 'server' && (name === 'node-adapter.ts' || name === 'node-sinks.ts'))
        )
          continue;
        const ties = nodeTies(new URL(`${dir}/${name}`, SRC));
        if (ties.length > 0) found[`${dir}/${name}`] = ties;
      }
    }
    expect(found).toEqual({});
    // The check sees what it looks for.
    expect(nodeTies(new URL('server/node-adapter.ts', SRC)).some((tie) => tie.startsWith('Buffer at'))).toBe(
      true,
    );
  });
});

/** The fetch path of `tandem/server` as a bundler builds it for a worker: one script, its imports. */
async function bundleFetchPath(): Promise<{ code: string; imports: string[] }> {
  const result = await build({
    stdin: {
      contents: `import { createHub } from 'tandem/server';
        const hub = createHub();
        globalThis.answer = async (url) => {
          const response = await hub.fetch(new Request(url));
          return { status: response.status, body: await response.json() };
        };
        globalThis.publish = (channel, data) => hub.publish(channel, 'tick', data);
        globalThis.node = () => hub.node;`,
      resolveDir: fileURLToPath(new URL('../..', import.meta.url)),
    },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['tandem-source'],
    metafile: true,
    logLevel: 'silent',
  });
  const imports = Object.values(result.metafile.outputs).flatMap((output) =>
    output.imports.map((i) => i.path),
  );
  return { code: result.outputFiles[0]!.text, imports };
}

/** The Web platform a worker runtime gives a script: no Buffer, no process, no require. */
function workerGlobals(): Record<string, unknown> {
  const names = [
    'Request',
    'Response',
    'Headers',
    'URL',
    'URLSearchParams',
    'ReadableStream',
    'TextEncoder',
    'TextDecoder',
    'AbortController',
    'AbortSignal',
    'crypto',
    'setTimeout',
    'clearTimeout',
    'queueMicrotask',
    'structuredClone',
    'console',
    'Error',
    'DOMException',
    'performance',
  ];
  return Object.fromEntries(names.map((name) => [name, (globalThis as Record<string, unknown>)[name]]));
}

describe('tandem/server on a worker runtime (hub.fetch)', () => {
  it('bundles with no node: import and serves polls where neither Buffer nor process exist', async () => {
    const { code, imports } = await bundleFetchPath();
    expect(imports.filter((path) => path.startsWith('node:'))).toEqual([]);
    expect(code).not.toMatch(/\brequire\(\s*["']node:/);

    const worker = workerGlobals() as Record<string, unknown> & {
      answer(url: string): Promise<{ status: number; body: { events: { data: unknown }[]; cursor: string } }>;
      publish(channel: string, data: unknown): Promise<unknown>;
      node(): unknown;
    };
    runInNewContext(code, worker);
    expect(runInNewContext('typeof Buffer + typeof process', worker)).toBe('undefinedundefined');
    const first = await worker.answer('http://worker.test/live/poll?channels=w');
    expect(first.status).toBe(200);
    await worker.publish('w', { n: 1 });
    const next = await worker.answer(
      `http://worker.test/live/poll?channels=w&cursor=${encodeURIComponent(first.body.cursor)}`,
    );
    expect(next.body.events.map((event) => event.data)).toEqual([{ n: 1 }]);
    // The Node adapter is there but inert: asking for it names the runtime's missing piece.
    expect(() => worker.node()).toThrow(/hub\.node needs a runtime with Node's http module/);
  });
});
