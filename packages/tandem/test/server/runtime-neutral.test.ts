import { readdirSync, readFileSync } from 'node:fs';
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
    expect(nodeTies(new URL('server/node-adapter.ts', SRC))).toContain('imports node:buffer');
  });
});
