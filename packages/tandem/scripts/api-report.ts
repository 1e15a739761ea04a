/**
 * The public API as a reviewed artifact: one report per subpath (`api/<subpath>.api.md`), made
 * by API Extractor from the declarations the package publishes, so any change to the surface is
 * a visible diff.
 *
 *   npm run api          builds the declarations and rewrites the reports
 *   npm run api -- --check   fails, printing the difference, when a report is out of date
 *
 * The declarations are built into a temporary folder (never the workspace's `dist`), from the
 * same tsdown configuration as the package.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConsoleMessageId, Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = resolve(PACKAGE_DIR, '../..');
const REPORTS = join(PACKAGE_DIR, 'api');

/** The subpaths `exports` names, as their built declaration's base name: `./server` → `server`. */
function entries(): string[] {
  const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
    exports: Record<string, unknown>;
  };
  return Object.keys(manifest.exports)
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => subpath.slice(2));
}

export interface ReportResult {
  /** Subpaths whose report differs from the one checked in (check mode). */
  changed: string[];
  /** API Extractor's errors and warnings, by subpath. */
  messages: string[];
}

/** Builds the declarations and makes each subpath's report; `check` compares instead of writing. */
export function apiReport(check: boolean): ReportResult {
  const work = mkdtempSync(join(tmpdir(), 'tandem-api-'));
  try {
    const dist = join(work, 'dist');
    execFileSync(process.execPath, [join(ROOT, 'node_modules/tsdown/dist/run.mjs'), '--out-dir', dist], {
      cwd: PACKAGE_DIR,
      stdio: 'pipe',
    });
    // API Extractor reads the package's name and a tsconfig next to the declarations.
    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'tandem', version: '0.0.0' }));
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, lib: ['ES2023', 'DOM'], types: [], skipLibCheck: true },
        include: ['dist/**/*.d.ts'],
      }),
    );
    const temp = join(work, 'reports');
    mkdirSync(temp);
    mkdirSync(REPORTS, { recursive: true });
    const result: ReportResult = { changed: [], messages: [] };
    for (const name of entries()) {
      const config = ExtractorConfig.prepare({
        configObjectFullPath: join(work, 'api-extractor.json'),
        packageJsonFullPath: join(work, 'package.json'),
        configObject: {
          projectFolder: work,
          mainEntryPointFilePath: join(dist, `${name}.d.ts`),
          compiler: { tsconfigFilePath: join(work, 'tsconfig.json') },
          apiReport: {
            enabled: true,
            reportFileName: `${name}.api.md`,
            reportFolder: REPORTS,
            reportTempFolder: temp,
          },
          docModel: { enabled: false },
          dtsRollup: { enabled: false },
          tsdocMetadata: { enabled: false },
          messages: {
            extractorMessageReporting: {
              default: { logLevel: ExtractorLogLevel.Warning },
              // The report shows these inline; the tsdoc style of comments is not checked.
              'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
              'ae-undocumented': { logLevel: ExtractorLogLevel.None },
              'ae-forgotten-export': { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
            },
            tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
          },
        },
      });
      const outcome = Extractor.invoke(config, {
        localBuild: !check,
        showVerboseMessages: false,
        messageCallback(message) {
          // A new report is reported as a warning; the result says it changed.
          const created = message.messageId === ConsoleMessageId.ApiReportCreated;
          if (!created && (message.logLevel === 'error' || message.logLevel === 'warning')) {
            result.messages.push(`${name}: ${message.text}`);
          }
          message.handled = true;
        },
      });
      if (outcome.apiReportChanged) result.changed.push(name);
      if (!check) copyFileSync(join(temp, `${name}.api.md`), join(REPORTS, `${name}.api.md`));
    }
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const { changed, messages } = apiReport(check);
  for (const message of messages) console.warn(message);
  if (check && changed.length > 0) {
    console.error(`The public API changed in: ${changed.join(', ')}. Review it and run \`npm run api\`.`);
    process.exit(1);
  }
  console.log(check ? 'The API reports are up to date.' : `Wrote ${REPORTS}`);
}
