import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FLOORS, layoutViolations, readSources, type SourceFile } from './imports';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const MAX_LINES = 300;
/**
 * Files still over the limit, each with the most lines it may have: debt to pay by splitting
 * them (see docs/architecture.md), never to grow. Lower a figure when a file shrinks.
 */
const OVERSIZED: Record<string, number> = {
  'client/client.ts': 375,
  'client/session.ts': 420,
  'server/connection.ts': 376,
};

describe('source layout', () => {
  const files = readSources(SRC);

  it('imports point downward only, each folder through its index.ts', () => {
    expect(files.length).toBeGreaterThan(40);
    expect(layoutViolations(files)).toEqual([]);
  });

  it(`keeps every file within ${MAX_LINES} lines, but for the known debt, which may only shrink`, () => {
    const long = files
      .map((file) => ({ path: file.path, lines: file.text.split('\n').length }))
      .filter((file) => file.lines > (OVERSIZED[file.path] ?? MAX_LINES));
    expect(long).toEqual([]);
  });

  it('finds the imports it forbids', () => {
    const file = (path: string, text: string): SourceFile => ({ path, text });
    expect(
      layoutViolations([
        file('client/a.ts', "import { createHub } from '../server';"),
        file('redis/b.ts', "import type { Hub } from '../server/hub';"),
        file('react/c.ts', "import type { LiveState } from '../client/types';"),
        file('server/d.ts', "import { Buffer } from 'node:buffer';"),
        file('server/e.ts', "import { Registry } from 'prom-client';"),
        file('protocol/f.ts', "export { x } from '../client';"),
        file('broker/g.ts', "import type { Settings } from '../server';"),
      ]),
    ).toEqual([
      "client/a.ts:1: client may not import server ('../server')",
      "redis/b.ts:1: redis may not import server ('../server/hub')",
      "react/c.ts:1: '../client/types' reaches past client/index.ts",
      'server/d.ts:1: node:buffer outside the Node adapter ties the server core to Node',
      "server/e.ts:1: server may not load 'prom-client' at run time",
      "protocol/f.ts:1: protocol may not import client ('../client')",
      "broker/g.ts:1: broker may not import server ('../server')",
    ]);
    expect(
      layoutViolations([
        file('server/ok.ts', "import type { Registry } from 'prom-client';\nimport { x } from './y';"),
        file(
          'client/transports/ok.ts',
          "import { TandemError } from '../../protocol';\nimport { withParam } from '../urls';",
        ),
        file(
          'react/ok.ts',
          "import { useEffect } from 'react';\nimport { createLiveClient } from '../client/index';",
        ),
      ]),
    ).toEqual([]);
  });
});

describe('docs/architecture.md', () => {
  const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
  const text = readFileSync(`${ROOT}docs/architecture.md`, 'utf8');
  /** Every `path/file.ts` the document names, looked up under src, the package's tests, or the repo. */
  const named = [...new Set([...text.matchAll(/`([\w.-]+\/[\w./-]+\.(?:ts|tsx|md))`/g)].map((m) => m[1]!))];

  it('names only files that exist', () => {
    expect(named.length).toBeGreaterThan(40);
    const places = [
      `${SRC}/`,
      `${ROOT}packages/tandem/test/`,
      ROOT,
      `${ROOT}packages/tandem/`,
      `${ROOT}docs/`,
    ];
    const missing = named.filter((path) => !places.some((place) => existsSync(`${place}${path}`)));
    expect(missing).toEqual([]);
  });

  it('lists every floor the layout rule knows, with what it may import', () => {
    for (const [floor, allowed] of Object.entries(FLOORS)) {
      const row = text.split('\n').find((line) => line.startsWith(`| \`${floor}\` |`));
      expect(row, `a row for ${floor}`).toBeDefined();
      const imports = row!.split('|')[3] ?? '';
      for (const other of allowed) expect(imports, `${floor} may import ${other}`).toContain(`\`${other}\``);
    }
  });
});
