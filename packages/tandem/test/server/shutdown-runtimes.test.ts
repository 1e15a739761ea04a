/**
 * The quick start on Bun and on Deno (`fixtures/runtime-quickstart.mjs`, wired for shutdown as
 * docs/deploy.md says), each a process of its own running Tandem's sources: clients that leave
 * log nothing, and a restart on the same port moves a client to the new process. The same
 * scenario runs for the node:http, Express and Hono quick starts in examples/quickstart/.
 */
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { restartScenario, spawnServer } from '../helpers/restart';
import { runtimeBinary } from '../helpers/runtimes';

const FIXTURE = fileURLToPath(new URL('./fixtures/runtime-quickstart.mjs', import.meta.url));
// Installed on first use (see helpers/runtimes.ts), before the scenarios start their clocks.
const [BUN, DENO] = await Promise.all([runtimeBinary('bun'), runtimeBinary('deno')]);

const RUNTIMES = {
  bun: (port: number) => spawnServer(BUN, ['--conditions=tandem-source', FIXTURE], port),
  deno: (port: number) =>
    spawnServer(
      DENO,
      [
        'run',
        '--sloppy-imports',
        '--conditions=tandem-source',
        '--allow-net=127.0.0.1',
        '--allow-read',
        '--allow-env',
        FIXTURE,
      ],
      port,
      { DENO_NO_UPDATE_CHECK: '1' },
    ),
};

describe.each(Object.keys(RUNTIMES) as (keyof typeof RUNTIMES)[])('the quick start on %s', (runtime) => {
  it('logs nothing when 50 clients leave, and on SIGTERM exits within the drain while a client moves to the new process on the same port', async () => {
    const { exitMs } = await restartScenario(RUNTIMES[runtime]);
    console.log(`${runtime}: exited ${Math.round(exitMs)} ms after SIGTERM`);
  }, 120_000);
});
