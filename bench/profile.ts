/**
 * Summarises V8 CPU profiles written by `npm run bench -- --cpu-prof`: self time per function
 * (file:line), heaviest first, and the share of each file.
 * `npx tsx bench/profile.ts bench/results/profiles/<file>.cpuprofile [top] [fromMs toMs]`;
 * a bound written `+n` counts n ms from the start of the profile.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg, fromArg, toArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/profile.ts <file.cpuprofile> [top] [fromMs toMs]');
  console.error(
    '  fromMs/toMs: a window in the benchmark clock (CLOCK_MONOTONIC ms, as in the results JSON)',
  );
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
// V8 stamps samples in µs of the same monotonic clock the benchmark uses.
// A bound written `+n` is n ms after the profile started.
const bound = (arg: string | undefined, none: number) =>
  arg === undefined
    ? none
    : arg.startsWith('+')
      ? profile.startTime + Number(arg.slice(1)) * 1000
      : Number(arg) * 1000;
const fromUs = bound(fromArg, Number.NEGATIVE_INFINITY);
const toUs = bound(toArg, Number.POSITIVE_INFINITY);
const selfUs = new Map<number, number>();
let t = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i] ?? 0;
  if (t < fromUs || t > toUs) continue;
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idleId = profile.nodes.find((n) => n.callFrame.functionName === '(idle)')?.id;
const busy = total - (idleId === undefined ? 0 : (selfUs.get(idleId) ?? 0));
const short = (url: string) => {
  if (!url) return '(native)';
  const clean = url.replace(/^file:\/\//, '');
  const at = clean.indexOf('/packages/');
  if (at >= 0) return clean.slice(at + 1);
  const nm = clean.lastIndexOf('node_modules/');
  if (nm >= 0) return clean.slice(nm);
  return clean.startsWith('node:') ? clean : path.basename(clean);
};
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const f = node.callFrame;
  const where = short(f.url);
  const key = `${f.functionName || '(anonymous)'}  ${where}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  byFile.set(where, (byFile.get(where) ?? 0) + us);
}
const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
console.log(
  `${path.basename(file)}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (${pct(busy).trim()})\n\nself time by function:`,
);
for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${pct(us)}  ${k}`);
console.log('\nself time by file:');
for (const [k, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(us)}  ${k}`);

// Inclusive time of the library's own functions: self time of the node and everything it called.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const f = byId.get(at)!.callFrame;
    // The library's sources, or the bundle the benchmark builds from them.
    if (!f.url.includes('/packages/') && !/\/tandem-[\w-]+\.mjs$/.test(f.url)) continue;
    const key = `${f.functionName || '(anonymous)'}  ${short(f.url)}:${f.lineNumber + 1}`;
    if (seen.has(key)) continue; // recursion counts once
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}
console.log('\ninclusive time of library functions:');
for (const [k, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${pct(us)}  ${k}`);
