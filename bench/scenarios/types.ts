import type { BenchOptions } from '../lib/args';

/** One line of a scenario's table: a server (or mode) and its figures. */
export interface Row {
  name: string;
  [metric: string]: number | string | boolean | null;
}

export interface Target {
  label: string;
  /** The measured figure, formatted. */
  value: string;
  met: boolean;
}

export interface ScenarioResult {
  id: string;
  title: string;
  /** Client count, duration, rate… as run. */
  params: Record<string, number | string>;
  rows: Row[];
  /** Columns to print, in order: [metric key, header]. */
  columns: [string, string][];
  targets: Target[];
  /** Tandem's ratio to each peer, for the summary. */
  ratios?: Record<string, number>;
  notes: string[];
}

export interface Context {
  options: BenchOptions;
  log(message: string): void;
}

/** Rounds for tables and JSON. */
export function round(n: number, digits = 2): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
