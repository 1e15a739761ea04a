import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/import-without-peers.ts', import.meta.url));

/** Imports `specifier` in a fresh Node process where `jose` and `prom-client` cannot be resolved. */
async function importWithoutPeers(
  specifier: string,
): Promise<{ ok: boolean; error?: string; exports?: string[] }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=tandem-source', '--import', 'tsx', FIXTURE, specifier],
    { cwd: fileURLToPath(new URL('../..', import.meta.url)) },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('optional peers', () => {
  it('tandem/server loads without jose and prom-client', async () => {
    const server = await importWithoutPeers('tandem/server');
    expect(server).toMatchObject({ ok: true });
    expect(server.exports).toContain('createHub');
    expect(server.exports).not.toContain('jwtAuthorizer');
  });

  it('tandem/jwt and tandem/prometheus need them (so the check above can fail)', async () => {
    expect(await importWithoutPeers('tandem/jwt')).toEqual({ ok: false, error: 'not installed: jose' });
    expect(await importWithoutPeers('tandem/prometheus')).toEqual({
      ok: false,
      error: 'not installed: prom-client',
    });
  });
});
