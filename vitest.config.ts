import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const react18 = (name: string) => path(`./packages/react18/node_modules/${name}`);

export default defineConfig({
  // The workspace runs Tandem from its TypeScript sources: the package's `tandem-source` export condition.
  resolve: { conditions: ['tandem-source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['tandem-source', ...defaultServerConditions] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests open real sockets and child processes; keep files isolated
    // but limit parallelism to the machine's size so timing-based tests stay honest.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: [
            'packages/*/test/**/*.test.{ts,tsx}',
            'bench/test/**/*.test.ts',
            'apps/*/test/**/*.test.{ts,tsx}',
            'examples/**/*.test.ts',
          ],
        },
      },
      {
        // The hooks again on React 18, the other half of the peer range (the workspace has 19).
        // Testing Library (its ES module build) and TanStack Query are inlined, so that the
        // `react` they import is 18 too.
        extends: true,
        resolve: {
          alias: [
            {
              find: /^@testing-library\/react$/,
              replacement: path('./node_modules/@testing-library/react/dist/@testing-library/react.esm.js'),
            },
            { find: /^react-dom(\/.*)?$/, replacement: `${react18('react-dom')}$1` },
            { find: /^react(\/.*)?$/, replacement: `${react18('react')}$1` },
          ],
        },
        test: {
          name: 'react18',
          env: { TANDEM_TEST_REACT: '18' },
          include: ['packages/tandem/test/react/**/*.test.{ts,tsx}'],
          server: { deps: { inline: ['@testing-library/react', '@tanstack/react-query'] } },
        },
      },
    ],
  },
});
