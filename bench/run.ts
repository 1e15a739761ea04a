/**
 * `npm run bench [-- --scenario S3 --clients 10000 …]`: runs the scenarios, prints one table
 * per scenario with Tandem's figures, its ratios to the peers and the targets, and writes the
 * results as JSON under bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, USAGE } from './lib/args';
import { conditions, cpus } from './lib/harness';
import { openFileLimit } from './lib/limits';
import { pin } from './lib/proc';
import { formatResult } from './lib/table';
import { runHostile } from './scenarios/h-hostile';
import { runParser } from './scenarios/p-parser';
import { runPollCost } from './scenarios/poll-cost';
import { runPresence } from './scenarios/presence';
import { runPublish } from './scenarios/pub-http';
import { runS1 } from './scenarios/s1-idle';
import { runS2 } from './scenarios/s2-fanout';
import { runS3S4 } from './scenarios/s3-latency';
import { runS5 } from './scenarios/s5-storm';
import { runS6 } from './scenarios/s6-hybrid';
import { runS7 } from './scenarios/s7-redis';
import { runS8 } from './scenarios/s8-heads';
import { runS9 } from './scenarios/s9-tabs';
import { runS10 } from './scenarios/s10-channels';
import type { Context, ScenarioResult } from './scenarios/types';
import { runCompression } from './scenarios/z-compression';

const here = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const cond = { ...conditions(), openFileLimit: openFileLimit(), payloadBytes: options.size };
  // The runner shares the generator's cores so the server's core stays its own.
  pin(process.pid, cpus().generator);
  console.log(`Tandem benchmarks — ${cond.cpuModel}, ${cond.cores} cores, Node ${cond.node}`);
  console.log(
    `${cond.pinning}; open-file limit ${cond.openFileLimit}; load average ${cond.loadAverage.join(' ')}`,
  );
  const started = performance.now();
  const ctx: Context = {
    options,
    log: (m) => console.log(`  [${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}`),
  };
  const results: ScenarioResult[] = [];
  const failures: { id: string; error: string }[] = [];
  const want = new Set(options.scenarios);
  const run = async (id: string, fn: () => Promise<ScenarioResult | ScenarioResult[]>) => {
    try {
      const r = await fn();
      for (const one of Array.isArray(r) ? r : [r]) {
        results.push(one);
        console.log(formatResult(one));
      }
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push({ id, error: message });
      console.error(`${id} failed: ${message}`);
    }
  };
  if (want.has('S1')) await run('S1', () => runS1(ctx));
  if (want.has('S2')) await run('S2', () => runS2(ctx));
  if (want.has('S3') || want.has('S4'))
    await run('S3/S4', () => runS3S4(ctx, { s3: want.has('S3'), s4: want.has('S4') }));
  if (want.has('S5')) await run('S5', () => runS5(ctx));
  if (want.has('S6')) await run('S6', () => runS6(ctx));
  if (want.has('S7')) await run('S7', () => runS7(ctx));
  if (want.has('S8')) await run('S8', () => runS8(ctx));
  if (want.has('S9')) await run('S9', () => runS9(ctx));
  if (want.has('S10')) await run('S10', () => runS10(ctx));
  if (want.has('P')) await run('P', () => runParser(ctx));
  if (want.has('POLL')) await run('POLL', () => runPollCost(ctx));
  if (want.has('PUB')) await run('PUB', () => runPublish(ctx));
  if (want.has('PRES')) await run('PRES', () => runPresence(ctx));
  if (want.has('Z')) await run('Z', () => runCompression(ctx));
  if (want.has('H')) await run('H', () => runHostile(ctx));

  const seconds = Math.round((performance.now() - started) / 1000);
  const targets = results.flatMap((r) => r.targets.map((t) => ({ scenario: r.id, ...t })));
  console.log(`\nTargets (${seconds} s):`);
  for (const t of targets)
    console.log(`  ${t.met ? 'met   ' : 'MISSED'} ${t.scenario} ${t.label}: ${t.value}`);
  for (const f of failures) console.log(`  FAILED ${f.id}: ${f.error.split('\n')[0]}`);

  const dir = path.join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const body = JSON.stringify(
    {
      conditions: { ...cond, endLoadAverage: conditions().loadAverage },
      options,
      seconds,
      results,
      failures,
    },
    null,
    2,
  );
  const file = path.join(dir, `bench-${stamp}.json`);
  writeFileSync(file, body);
  writeFileSync(path.join(dir, 'latest.json'), body);
  console.log(`\nResults: ${path.relative(process.cwd(), file)}`);
  if (failures.length > 0) process.exitCode = 1;
}

await main();
