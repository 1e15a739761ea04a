/**
 * P — the client's SSE parser against eventsource-parser: MB/s of Tandem's wire format parsed,
 * both parsers alternating pass by pass in one process (bench/parser/measure.ts), for 100 B,
 * 1 KB and 10 KB events, fed as text and as bytes, one frame per chunk and in 64 KiB chunks.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { buildEntry } from '../lib/build';
import { cpus } from '../lib/harness';
import type { ParserCase, ParserCaseResult } from '../parser/measure';
import { type Context, type Row, round, type ScenarioResult } from './types';

const run = promisify(execFile);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const PARSER_SIZES = [100, 1000, 10_000];
const ROUNDS = 10;

export async function runParser(ctx: Context): Promise<ScenarioResult> {
  // Compiled like the servers: Tandem's sources bundled, eventsource-parser from node_modules.
  const entry = await buildEntry('bench/parser/measure.ts', 'build-parser');
  const cases: ParserCase[] = [];
  for (const input of ['text', 'bytes'] as const)
    for (const chunking of ['frame', '64k'] as const)
      for (const size of PARSER_SIZES) cases.push({ size, input, chunking });
  const core = cpus().server;
  const node = [process.execPath, entry, JSON.stringify({ cases, rounds: ROUNDS })];
  const [file, ...args] = core ? ['taskset', '-c', core, ...node] : node;
  ctx.log(`P: ${cases.length} cases × ${ROUNDS} alternating rounds${core ? ` on cpu ${core}` : ''}`);
  const { stdout } = await run(file!, args, { maxBuffer: 16 * 2 ** 20 });
  const results = JSON.parse(stdout.trim().split('\n').pop()!) as ParserCaseResult[];

  const rows: Row[] = results.map((r) => {
    // The ratio of each round's pair of passes, run back to back.
    const ratios = r.tandem.map((t, i) => t / r.eventsourceParser[i]!);
    return {
      name: `${r.size} B, ${r.input}, ${r.chunking === 'frame' ? 'a frame per chunk' : '64 KiB chunks'}`,
      size: r.size,
      input: r.input,
      chunking: r.chunking,
      tandemMBps: round(median(r.tandem), 1),
      eventsourceParserMBps: round(median(r.eventsourceParser), 1),
      ratio: round(median(ratios), 2),
      ratioMin: round(Math.min(...ratios), 2),
      ratioMax: round(Math.max(...ratios), 2),
    };
  });
  // The target is on bytes, as Tandem's client feeds its parser (a fetch body); text shows the
  // parsers alone, with decoding left out.
  const worst = (size: number, input: string) =>
    Math.min(...rows.filter((r) => r.size === size && r.input === input).map((r) => Number(r.ratio)));
  const targets = PARSER_SIZES.map((size) => ({
    label: `≥ 1.0× eventsource-parser's MB/s on ${size} B events fed as bytes (median of ${ROUNDS} alternating pairs, worse chunking)`,
    value: `${worst(size, 'bytes')}×`,
    met: worst(size, 'bytes') >= 1,
  }));
  const notes = PARSER_SIZES.map(
    (size) => `${size} B events fed as text: ${worst(size, 'text')}× at the worse chunking`,
  );
  return {
    id: 'P',
    title: 'SSE parser throughput: Tandem vs eventsource-parser',
    params: { rounds: ROUNDS, stream: '≈ 4 MB per pass, Tandem frames (id, event, data)' },
    rows,
    columns: [
      ['tandemMBps', 'Tandem MB/s'],
      ['eventsourceParserMBps', 'eventsource-parser MB/s'],
      ['ratio', 'ratio (median)'],
      ['ratioMin', 'min'],
      ['ratioMax', 'max'],
    ],
    targets,
    notes,
  };
}
