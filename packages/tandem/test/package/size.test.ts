import { describe, expect, it } from 'vitest';
import { formatSizeReport, SIZE_BUDGETS, sizeReport } from '../../../../bench/lib/size';

// Bundled, minified and gzipped as an app ships it (`npm run size` prints the same figures).
describe('browser bundle size', { timeout: 60_000 }, () => {
  it('tandem/react adds at most 2.5 KB min+gzip to the client', async () => {
    const report = await sizeReport();
    expect(report.clientAndReact.modules.some((module) => module.path.startsWith('src/react/'))).toBe(true);
    expect(report.reactOnTop, formatSizeReport(report)).toBeLessThanOrEqual(SIZE_BUDGETS.reactOnTop);
  });
});
