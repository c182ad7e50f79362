// A drawing pad and the step that turns a drawing into a row of the digits table.
//
// The digits table (UCI "Optical Recognition of Handwritten Digits") was made by scaling each
// handwritten digit into a 32×32 black-and-white bitmap and counting the ink pixels in each 4×4
// block: 8×8 values of 0..16. toDigitsRow does the same with the drawing: crop to the ink, scale the
// longer side to 32 (keeping the aspect ratio, centred), threshold, count.

/**
 * 64 values of 0..16 from an RGBA image's alpha channel (ink = alpha), or null when it is blank. With
 * `out`, out.box = {x, y, side} is the square of the drawing (in its pixels) that the 8×8 grid covers.
 */
export function toDigitsRow(rgba, width, height, out) {
  const ink = (x, y) => rgba[(y * width + x) * 4 + 3] / 255;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (ink(x, y) > 0.1) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1, h = y1 - y0 + 1, side = Math.max(w, h);
  // The square (in drawing pixels) that maps onto the 32×32 bitmap, centred on the ink.
  const sx = x0 - (side - w) / 2, sy = y0 - (side - h) / 2, cell = side / 32;
  if (out) out.box = { x: sx, y: sy, side };
  const row = new Float32Array(64);
  for (let by = 0; by < 32; by++) {
    for (let bx = 0; bx < 32; bx++) {
      // Mean ink over the drawing pixels this bitmap pixel covers.
      const ax = sx + bx * cell, ay = sy + by * cell;
      let sum = 0, n = 0;
      for (let y = Math.floor(ay); y < Math.ceil(ay + cell); y++)
        for (let x = Math.floor(ax); x < Math.ceil(ax + cell); x++) {
          n++;
          if (x >= 0 && y >= 0 && x < width && y < height) sum += ink(x, y);
        }
      if (n && sum / n >= 0.4) row[(by >> 2) * 8 + (bx >> 2)]++;
    }
  }
  return row;
}

/** A canvas to draw on with a mouse, pen or finger; onChange(row | null) after each stroke segment. */
export class DrawPad {
  constructor(canvas, { onChange, lineWidth = 18 } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d', { willReadFrequently: true });
    this.onChange = onChange ?? (() => {});
    this.lineWidth = lineWidth;
    this.last = null;
    this.pending = 0;
    canvas.style.touchAction = 'none'; // no scrolling while drawing with a finger
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    for (const t of ['pointerup', 'pointercancel']) canvas.addEventListener(t, (e) => this.up(e));
    canvas.addEventListener('keydown', (e) => { if (e.key === 'Escape' || e.key === 'Delete') this.clear(); });
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * (this.canvas.width / r.width), (e.clientY - r.top) * (this.canvas.height / r.height)];
  }

  down(e) {
    if (e.button !== undefined && e.button !== 0) return;
    this.canvas.setPointerCapture?.(e.pointerId);
    this.last = this.point(e);
    this.stroke(this.last, this.last);
    e.preventDefault();
  }

  move(e) {
    if (!this.last) return;
    const p = this.point(e);
    this.stroke(this.last, p);
    this.last = p;
  }

  up() {
    if (!this.last) return;
    this.last = null;
    this.emit(true);
  }

  stroke([ax, ay], [bx, by]) {
    const c = this.ctx;
    c.strokeStyle = '#1d2433';
    c.lineWidth = this.lineWidth;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.beginPath();
    c.moveTo(ax, ay);
    c.lineTo(bx + (ax === bx && ay === by ? 0.01 : 0), by);
    c.stroke();
    this.emit(false);
  }

  /** Calls onChange at most once per frame while drawing, and always at the end of a stroke. */
  emit(now) {
    if (now) {
      cancelAnimationFrame(this.pending);
      this.pending = 0;
      this.onChange(this.row());
    } else if (!this.pending) {
      this.pending = requestAnimationFrame(() => { this.pending = 0; this.onChange(this.row()); });
    }
  }

  /** The drawing as a row of the table; this.box is then the square its 8×8 grid covers (null when blank). */
  row() {
    const { width, height } = this.canvas;
    const out = { box: null };
    const row = toDigitsRow(this.ctx.getImageData(0, 0, width, height).data, width, height, out);
    this.box = out.box;
    return row;
  }

  clear() {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.emit(true);
  }
}
