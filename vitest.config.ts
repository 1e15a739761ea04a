import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/test/**/*.test.{ts,tsx}',
      'bench/test/**/*.test.ts',
      'apps/*/test/**/*.test.{ts,tsx}',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests open real sockets and child processes; keep files isolated
    // but limit parallelism to the machine's size so timing-based tests stay honest.
    pool: 'forks',
    maxWorkers: 2,
  },
});
