/**
 * `npm run size [-- --dist]`: the browser bundle sizes and their budgets, as Markdown, with the
 * heaviest modules. From the sources by default; `--dist` measures the built package instead.
 */
import { formatSizeReport, sizeReport } from './lib/size';

const report = await sizeReport({ source: !process.argv.includes('--dist') });
console.log(formatSizeReport(report));
