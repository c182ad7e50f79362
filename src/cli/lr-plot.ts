// The learning-rate range test as a small terminal plot: the smoothed loss against the rate (log scale),
// the chosen rate marked, for `simdnn train --lr auto`. Plain characters (no colours, no cursor moves), so
// a log file shows it the same as a terminal.
import * as sd from '../index.js';
import type { LrFinderResult } from '../index.js';

const sup: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };
/** 10^k as text: 1e-3 → "10⁻³". */
const decade = (k: number) => `10${String(k).replace(/./g, (c) => sup[c] ?? c)}`;

const num = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : String(+v.toPrecision(2)));

/**
 * Rows of text: the loss axis on the left, one column per slice of log(lr), '•' where the smoothed curve
 * passes, '│' down the chosen rate's column, the decades underneath. The loss axis stops at 1.25× the
 * curve's start: the divergence at the end would otherwise flatten everything before it.
 */
export function lrPlot(f: Pick<LrFinderResult, 'lrs' | 'losses' | 'suggestion'> & { smoothed?: number[] }, width = 56, height = 10): string {
  const ys = f.smoothed ?? f.losses;
  const xs = f.lrs.map((v) => Math.log10(v));
  const x0 = Math.min(...xs, Math.log10(f.suggestion)), x1 = Math.max(...xs);
  const lo = Math.min(...ys), hi = Math.max(lo * 1.001 + 1e-12, Math.min(Math.max(...ys), ys[0] * 1.25));
  const col = (x: number) => Math.max(0, Math.min(width - 1, Math.round(((x - x0) / (x1 - x0 || 1)) * (width - 1))));
  const row = (y: number) => Math.max(0, Math.min(height - 1, Math.round(((hi - Math.min(y, hi)) / (hi - lo)) * (height - 1))));
  const grid = Array.from({ length: height }, () => new Array<string>(width).fill(' '));
  const mark = col(Math.log10(f.suggestion));
  for (let r = 0; r < height; r++) grid[r][mark] = '│';
  // One point per column: the mean of the curve's points that fall in it.
  const sum = new Float64Array(width), n = new Uint32Array(width);
  xs.forEach((x, i) => {
    const c = col(x);
    sum[c] += Math.min(ys[i], hi);
    n[c]++;
  });
  for (let c = 0; c < width; c++) if (n[c]) grid[row(sum[c] / n[c])][c] = '•';
  const labels = [num(hi), num((hi + lo) / 2), num(lo)];
  const w = Math.max(...labels.map((l) => l.length));
  const lines = grid.map((cells, r) => {
    const label = r === 0 ? labels[0] : r === Math.floor((height - 1) / 2) ? labels[1] : r === height - 1 ? labels[2] : '';
    return `  ${label.padStart(w)} ┤${cells.join('')}`.trimEnd();
  });
  // Decades under the axis, where they fit without overlapping.
  const axis = new Array<string>(width + 2).fill(' ');
  for (let k = Math.ceil(x0); k <= Math.floor(x1); k++) {
    const text = decade(k), at = col(k);
    const start = Math.max(0, Math.min(axis.length - text.length, at - 1));
    if (axis.slice(Math.max(0, start - 1), start + text.length + 1).every((c) => c === ' ')) for (let i = 0; i < text.length; i++) axis[start + i] = text[i];
  }
  lines.push(`  ${' '.repeat(w)} └${'─'.repeat(width)}`);
  lines.push(`  ${' '.repeat(w)}  ${axis.join('').trimEnd()}   learning rate`);
  return `${lines.join('\n')}\n`;
}

/**
 * `--lr auto` for fit(): one-cycle with its peak found by the range test that fit() runs before the first
 * batch, and the callback that prints the test's curve and the chosen rate once it has run.
 */
export function autoLr(print: (text: string) => void): { schedule: sd.Schedule; onTrainBegin: () => void } {
  const schedule = sd.schedules.oneCycle({ maxLr: 'find' });
  const onTrainBegin = () => {
    const f = schedule.found as LrFinderResult | null | undefined;
    if (!f) return;
    const why = f.stopped === 'diverged' ? `, stopped where the loss diverged (lr ${num(f.lrs.at(-1)!)})` : '';
    print(
      `learning rate: range test of ${f.lrs.length} steps from ${num(f.lrs[0])}${why}, ${(f.ms / 1000).toFixed(2)} s\n` +
        lrPlot(f) +
        `  chosen ${num(f.suggestion)}: a tenth of the rate at the smoothed loss's minimum (${num(f.minimum.lr)}); one-cycle peaks there\n\n`,
    );
  };
  return { schedule, onTrainBegin };
}
