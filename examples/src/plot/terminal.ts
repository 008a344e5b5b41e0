/** A small chart for the terminal: each series drawn with its own mark on a character grid. */

const MARKS = ['*', 'o', '+', 'x'];

/** Renders series (one value per epoch) as `height` rows of text with a y axis and a legend. */
export function terminalChart(
  series: { name: string; y: number[] }[],
  options: { width?: number; height?: number } = {},
): string {
  const width = options.width ?? 60;
  const height = options.height ?? 10;
  const values = series.flatMap((s) => s.y).filter(Number.isFinite);
  if (values.length === 0) return '(nothing to plot)';
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const n = Math.max(...series.map((s) => s.y.length));
  const cols = Math.min(width, Math.max(n, 2));
  const grid = Array.from({ length: height }, () => Array<string>(cols).fill(' '));
  series.forEach((s, k) => {
    for (let c = 0; c < cols; c++) {
      // Each column shows the value of the epoch under it (resampled when there are more epochs than columns).
      const i = Math.round((c / (cols - 1)) * (s.y.length - 1));
      const v = s.y[i];
      if (!Number.isFinite(v)) continue;
      const r = height - 1 - Math.round(((v - lo) / (hi - lo)) * (height - 1));
      grid[r][c] = MARKS[k % MARKS.length];
    }
  });
  const label = (v: number) => v.toPrecision(3).padStart(9);
  const lines = grid.map((row, r) => {
    const axis = r === 0 ? label(hi) : r === height - 1 ? label(lo) : ' '.repeat(9);
    return `${axis} |${row.join('')}`;
  });
  lines.push(`${' '.repeat(9)} +${'-'.repeat(cols)}`);
  lines.push(`${' '.repeat(11)}epoch 1${' '.repeat(Math.max(1, cols - 14))}${n}`);
  lines.push(`${' '.repeat(11)}${series.map((s, k) => `${MARKS[k % MARKS.length]} ${s.name}`).join('   ')}`);
  return lines.join('\n');
}
