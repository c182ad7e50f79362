// The learning-rate range test as an inline SVG: the loss of each step against its rate on a log axis
// (the raw losses faint, the smoothed curve bold), the chosen rate marked.

import { el } from './chart.js';

const sup = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };
const decade = (k) => `10${String(k).replace(/./g, (c) => sup[c] ?? c)}`;

/**
 * Draws `f` ({lrs, losses, smoothed, suggestion, minimum}) into `svg`, or an empty frame with a hint when
 * f is null. The loss axis stops at 1.25× the curve's start: the divergence at the end would otherwise
 * flatten everything before it.
 */
export function drawLrCurve(svg, f) {
  const W = 460, H = 210, m = { l: 44, r: 12, t: 28, b: 26 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'Loss against learning rate');
  svg.replaceChildren();
  const g = el('g', { 'font-size': 11, fill: 'currentColor' });
  svg.append(g);
  g.append(el('text', { x: m.l - 36, y: 14, class: 'chart-title' }, 'Loss against learning rate'));
  g.append(el('line', { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, class: 'axis' }));
  if (!f) {
    g.append(el('text', { x: m.l + pw / 2, y: m.t + ph / 2, 'text-anchor': 'middle', class: 'tick' }, 'Find learning rate draws the range test here'));
    return;
  }
  const xs = f.lrs.map(Math.log10);
  const x0 = Math.floor(Math.min(...xs)), x1 = Math.ceil(Math.max(...xs));
  const ys = f.smoothed;
  const lo = Math.min(...ys, ...f.losses.slice(0, ys.length)) * 0.95;
  const hi = Math.max(lo + 1e-6, ys[0] * 1.25);
  const X = (x) => m.l + ((x - x0) / (x1 - x0 || 1)) * pw;
  const Y = (y) => m.t + (1 - (Math.min(hi, Math.max(lo, y)) - lo) / (hi - lo)) * ph;
  for (let k = x0; k <= x1; k++) {
    g.append(el('line', { x1: X(k), x2: X(k), y1: m.t, y2: H - m.b, class: 'grid' }));
    if ((k - x0) % 2 === 0 || x1 - x0 <= 6) g.append(el('text', { x: X(k), y: H - m.b + 16, 'text-anchor': 'middle', class: 'tick' }, decade(k)));
  }
  for (const v of [lo, (lo + hi) / 2, hi]) g.append(el('text', { x: m.l - 6, y: Y(v) + 4, 'text-anchor': 'end', class: 'tick' }, String(+v.toPrecision(2))));
  g.append(el('text', { x: W - m.r, y: H - 2, 'text-anchor': 'end', class: 'tick' }, 'learning rate'));
  const path = (vals, attrs) => el('path', {
    d: vals.map((y, i) => `${i ? 'L' : 'M'}${X(xs[i]).toFixed(1)},${Y(y).toFixed(1)}`).join(''),
    fill: 'none', 'stroke-linejoin': 'round', 'stroke-linecap': 'round', ...attrs,
  });
  g.append(path(f.losses, { stroke: '#9db3ea', 'stroke-width': 1, opacity: 0.8, 'data-series': 'raw' }));
  g.append(path(ys, { stroke: '#2457d6', 'stroke-width': 2.2, 'data-series': 'smoothed', 'data-points': ys.length }));
  // The minimum, and the chosen rate a decade below it.
  g.append(el('circle', { cx: X(Math.log10(f.minimum.lr)), cy: Y(f.minimum.loss), r: 3, fill: '#2457d6' }));
  const sx = X(Math.log10(f.suggestion));
  g.append(el('line', { x1: sx, x2: sx, y1: m.t, y2: H - m.b, stroke: '#e0712c', 'stroke-width': 2, 'stroke-dasharray': '5 3', 'data-suggestion': f.suggestion }));
  g.append(el('text', { x: sx + 5, y: m.t + 10, class: 'legend' }, `chosen ${+f.suggestion.toPrecision(2)}`));
}
