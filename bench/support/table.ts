// The printed table: one row per figure, `| Bar | This run | Target | met/MISSED |`, and the formatting the rows
// share.
export type Row = [bar: string, figure: string, target: string, verdict: string];

export const MiB = 1024 * 1024;

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '—';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}
export const fmtS = (s: number | undefined): string => (s === undefined ? '—' : `${s.toFixed(1)} s`);
export const fmtMiB = (b: number | undefined): string =>
  b === undefined ? '—' : `${(b / MiB).toFixed(0)} MiB`;
/** '' when the bar does not apply (undefined), else met / MISSED */
export const verdict = (ok: boolean | undefined): string => (ok === undefined ? '' : ok ? 'met' : 'MISSED');

export function renderTable(rows: readonly Row[]): string {
  const widths = [0, 1, 2, 3].map((c) => Math.max(0, ...rows.map((row) => row[c]?.length ?? 0)));
  const header = ['Bar', 'This run', 'Target', ''];
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
