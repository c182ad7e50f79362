// Small inline-SVG line charts: axes with round ticks, a legend, one path per series. Redrawn whole
// on each update (a few hundred points at most), which is cheaper than it sounds and keeps it simple.

const NS = 'http://www.w3.org/2000/svg';

/** An SVG element with these attributes (and text). */
export function el(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Round tick values covering [lo, hi], about `count` of them. */
function ticks(lo, hi, count) {
  const span = hi - lo || 1;
  const raw = span / count, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) ?? 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

export class LineChart {
  /**
   * @param {SVGSVGElement} svg
   * @param {{title: string, yMin?: number, yMax?: number, yFormat?: (v: number) => string, series: {key: string, label: string, color: string, dash?: string, width?: number, opacity?: number}[]}} opts
   */
  constructor(svg, opts) {
    this.svg = svg;
    this.opts = opts;
    this.data = Object.fromEntries(opts.series.map((s) => [s.key, []]));
    this.xMax = 10;
    this.W = 460;
    this.H = 210;
    svg.setAttribute('viewBox', `0 0 ${this.W} ${this.H}`);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', opts.title);
    this.render();
  }

  reset(xMax) {
    for (const k of Object.keys(this.data)) this.data[k] = [];
    this.xMax = xMax;
    this.render();
  }

  push(key, x, y) {
    if (!Number.isFinite(y)) return;
    this.data[key].push([x, y]);
    this.dirty();
  }

  setXMax(x) {
    if (x !== this.xMax) {
      this.xMax = x;
      this.dirty();
    }
  }

  /** Coalesces many pushes into one redraw per frame. */
  dirty() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render() {
    const { svg, opts, W, H } = this;
    const m = { l: 44, r: 12, t: 28, b: 26 };
    const pw = W - m.l - m.r, ph = H - m.t - m.b;
    const all = Object.values(this.data).flat();
    const xMax = Math.max(this.xMax, ...all.map((p) => p[0]), 1);
    let yMin = opts.yMin ?? Math.min(...all.map((p) => p[1]), 0);
    let yMax = opts.yMax ?? Math.max(...all.map((p) => p[1]), 1e-6);
    if (opts.yMax === undefined) {
      // Round the top up to the tick step, so the highest point is inside the plot.
      const t = ticks(yMin, yMax, 4), step = t.length > 1 ? t[1] - t[0] : yMax;
      yMax = Math.ceil(yMax / step - 1e-9) * step;
    }
    if (!(yMax > yMin)) yMax = yMin + 1;
    const X = (x) => m.l + (x / xMax) * pw, Y = (y) => m.t + (1 - (y - yMin) / (yMax - yMin)) * ph;
    const fmt = opts.yFormat ?? ((v) => String(+v.toFixed(3)));

    svg.replaceChildren();
    const g = el('g', { 'font-size': 11, fill: 'currentColor' });
    svg.append(g);
    for (const v of ticks(yMin, yMax, 4)) {
      g.append(el('line', { x1: m.l, x2: W - m.r, y1: Y(v), y2: Y(v), class: 'grid' }));
      g.append(el('text', { x: m.l - 6, y: Y(v) + 4, 'text-anchor': 'end', class: 'tick' }, fmt(v)));
    }
    for (const v of ticks(0, xMax, 6)) {
      g.append(el('line', { x1: X(v), x2: X(v), y1: H - m.b, y2: H - m.b + 4, class: 'axis' }));
      g.append(el('text', { x: X(v), y: H - m.b + 16, 'text-anchor': 'middle', class: 'tick' }, String(v)));
    }
    g.append(el('line', { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, class: 'axis' }));
    g.append(el('text', { x: W - m.r, y: H - 2, 'text-anchor': 'end', class: 'tick' }, 'epoch'));
    g.append(el('text', { x: m.l - 36, y: 14, class: 'chart-title' }, opts.title));

    // Legend, right-aligned on the title line.
    let lx = W - m.r;
    for (const s of [...opts.series].reverse()) {
      const label = el('text', { x: lx, y: 14, 'text-anchor': 'end', class: 'legend' }, s.label);
      g.append(label);
      lx -= s.label.length * 6.1 + 6;
      g.append(el('line', { x1: lx - 14, x2: lx, y1: 10, y2: 10, stroke: s.color, 'stroke-width': 2.5, 'stroke-dasharray': s.dash ?? '', opacity: s.opacity ?? 1 }));
      lx -= 24;
    }

    for (const s of opts.series) {
      const pts = this.data[s.key];
      if (!pts.length) continue;
      const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${X(x).toFixed(1)},${Y(Math.min(yMax, Math.max(yMin, y))).toFixed(1)}`).join('');
      g.append(el('path', {
        d, fill: 'none', stroke: s.color, 'stroke-width': s.width ?? 2, 'stroke-dasharray': s.dash ?? '', opacity: s.opacity ?? 1,
        'stroke-linejoin': 'round', 'stroke-linecap': 'round', 'data-series': s.key, 'data-points': pts.length,
      }));
      if (pts.length === 1 || s.dots) {
        for (const [x, y] of pts) g.append(el('circle', { cx: X(x), cy: Y(y), r: 2.5, fill: s.color }));
      }
    }
  }
}
