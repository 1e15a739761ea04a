/** Plain-text tables for the terminal. */
import type { ScenarioResult } from '../scenarios/types';

/** One table cell: numbers ≥ 10 000 with thousands separators, missing values as a dash. */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'n/a';
    return Math.abs(v) >= 10_000 ? Math.round(v).toLocaleString('en-US') : String(v);
  }
  return String(v);
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatResult(r: ScenarioResult): string {
  const params = Object.entries(r.params)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const headers = ['', ...r.columns.map(([, h]) => h)];
  const rows = r.rows.map((row) => [String(row.name), ...r.columns.map(([k]) => cell(row[k]))]);
  const out = [`\n${r.id} — ${r.title} (${params})`, table(headers, rows)];
  if (r.ratios && Object.keys(r.ratios).length > 0) {
    out.push(
      `ratios: ${Object.entries(r.ratios)
        .map(([k, v]) => `${k} ${v}×`)
        .join(', ')}`,
    );
  }
  for (const t of r.targets) out.push(`target ${t.met ? 'met' : 'MISSED'}: ${t.label} — ${t.value}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}
