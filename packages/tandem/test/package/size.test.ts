import { describe, expect, it } from 'vitest';
import {
  formatSizeReport,
  SIZE_BUDGETS,
  SIZE_CEILINGS,
  type SizeReport,
  sizeReport,
} from '../../../../bench/lib/size';

// Bundled, minified and gzipped as an app ships it (`npm run size` prints the same figures).
let measured: Promise<SizeReport> | null = null;
const measure = () => {
  measured ??= sizeReport();
  return measured;
};

describe('browser bundle size', { timeout: 60_000 }, () => {
  it('tandem/react adds at most 2.5 KB min+gzip to the client', async () => {
    const report = await measure();
    expect(report.clientAndReact.modules.some((module) => module.path.startsWith('src/react/'))).toBe(true);
    expect(report.reactOnTop, formatSizeReport(report)).toBeLessThanOrEqual(SIZE_BUDGETS.reactOnTop);
  });

  it(`createLiveClient does not grow past its ceiling (${SIZE_CEILINGS.client / 1000} KB min+gzip) on its way to the ${SIZE_BUDGETS.client / 1000} KB budget`, async () => {
    const report = await measure();
    expect(SIZE_CEILINGS.client).toBeGreaterThan(SIZE_BUDGETS.client);
    expect(report.client.gzip, formatSizeReport(report)).toBeLessThanOrEqual(SIZE_CEILINGS.client);
  });

  it('the initial bundle is one file: chunks loaded on demand import nothing from it', async () => {
    // A module both the first chunk and an on-demand chunk import would be split by the
    // bundler into a shared chunk: one more request, compressed on its own, before the client runs.
    const { client } = await measure();
    expect(client.files, formatSizeReport(await measure())).toBe(1);
  });

  it('presence is a chunk loaded on demand, not part of the initial bundle', async () => {
    const { client } = await measure();
    const presence = (modules: { path: string }[]) =>
      modules.some((module) => module.path === 'src/client/presence.ts');
    expect(presence(client.lazy.flatMap((chunk) => chunk.modules))).toBe(true);
    expect(presence(client.modules)).toBe(false);
  });

  it('tab sharing is a chunk loaded on demand, not part of the initial bundle', async () => {
    const { client } = await measure();
    const sharing = (modules: { path: string }[]) =>
      modules.filter((module) => module.path.startsWith('src/client/share/')).map((module) => module.path);
    expect(sharing(client.lazy.flatMap((chunk) => chunk.modules))).toContain('src/client/share/member.ts');
    // Only the check for Web Locks and BroadcastChannel, and the group stream's tap, load first.
    expect(sharing(client.modules).sort()).toEqual([
      'src/client/share/platform.ts',
      'src/client/share/tap.ts',
    ]);
  });
});
