/**
 * Turns result files of `npm run bench` into Markdown (conditions, one table per scenario,
 * targets), for BENCHMARKS.md: `npx tsx bench/report.ts bench/results/<file>.json […]`.
 * With several files, a scenario found in a later file replaces the earlier one.
 */
import { readFileSync } from 'node:fs';
import { cell } from './lib/table';
import type { ScenarioResult } from './scenarios/types';

interface ResultFile {
  conditions: Record<string, unknown> & { loadAverage: number[]; endLoadAverage?: number[] };
  seconds: number;
  results: ScenarioResult[];
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: tsx bench/report.ts <results.json> [more.json…]');
  process.exit(2);
}

const byId = new Map<string, { result: ScenarioResult; file: string; run: ResultFile }>();
for (const file of files) {
  const run = JSON.parse(readFileSync(file, 'utf8')) as ResultFile;
  for (const result of run.results) byId.set(result.id, { result, file, run });
}

const out: string[] = [];
for (const file of files) {
  const run = JSON.parse(readFileSync(file, 'utf8')) as ResultFile;
  const c = run.conditions;
  out.push(
    `- \`${file.split('/').pop()}\` (${run.results.map((r) => r.id).join(', ')}, ${run.seconds} s): ${c.cpuModel}, ${c.cores} cores, ${c.memoryGiB} GiB, Node ${c.node}, Linux; ${c.pinning}; open-file limit ${c.openFileLimit}; payload ${c.payloadBytes} B; load average at start ${c.loadAverage.join(' / ')}, at end ${(c.endLoadAverage ?? []).join(' / ')}; ${c.date}`,
  );
}
out.push('');
for (const id of [...byId.keys()].sort()) {
  const { result: r } = byId.get(id)!;
  const params = Object.entries(r.params)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  out.push(`### ${r.id} — ${r.title}`, '', `${params}`, '');
  out.push(`| | ${r.columns.map(([, h]) => h).join(' | ')} |`);
  out.push(`|---|${r.columns.map(() => '---:').join('|')}|`);
  for (const row of r.rows) out.push(`| ${row.name} | ${r.columns.map(([k]) => cell(row[k])).join(' | ')} |`);
  out.push('');
  if (r.ratios && Object.keys(r.ratios).length > 0) {
    out.push(
      `Ratios: ${Object.entries(r.ratios)
        .map(([k, v]) => `${k} ${v}×`)
        .join(', ')}.`,
      '',
    );
  }
  for (const t of r.targets)
    out.push(`- Target ${t.met ? '**met**' : '**missed**'}: ${t.label} — ${t.value}`);
  out.push('');
}
console.log(out.join('\n'));
