/**
 * The Node adapter leans on ServerResponse internals (see node-internals.test.ts), so its tests
 * run on every Node major the package supports, not only on the one running this suite: Node 22
 * and 24 come from the npm package `node` (its binaries ship through the registry), installed
 * into a temporary folder with npm's cache.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childEnv, ROOT, run } from '../package/packed';

/** The tests that exercise Node's HTTP server under the adapter. */
const FILES = [
  'packages/tandem/test/server/node-internals.test.ts',
  'packages/tandem/test/server/wire.test.ts',
  'packages/tandem/test/server/http2.test.ts',
  'packages/tandem/test/server/basics.test.ts',
  'packages/tandem/test/server/slow-consumer.test.ts',
];

describe('the Node adapter on every supported Node major', () => {
  it(`runs here on Node ${process.versions.node.split('.')[0]} (20 or newer)`, () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(20);
  });

  for (const major of ['22', '24']) {
    it.concurrent(`passes its tests on Node ${major}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `tandem-node${major}-`));
      try {
        await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `node@${major}`], {
          cwd: dir,
          env: childEnv({ npm_config_prefix: dir }),
          timeoutMs: 240_000,
        });
        const node = join(dir, 'node_modules/node/bin/node');
        const version = await run(node, ['--version'], { cwd: dir });
        expect(version.trim()).toMatch(new RegExp(`^v${major}\\.`));
        const colored = await run(
          node,
          [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'default', ...FILES],
          { cwd: ROOT, env: childEnv({ CI: 'true', NO_COLOR: '1' }), timeoutMs: 240_000 },
        );
        const output = colored.replace(/\u001b\[[0-9;]*m/g, '');
        expect(output).toMatch(/Tests\s+\d+ passed/);
        expect(output).not.toMatch(/\d+ failed/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 480_000);
  }
});
