// Data movement and simple elementwise updates: transpose, fill, copy, affine, axpy.

/** 4×4 transpose of rows a, b, c, d (lanes 0..3 of each) stored as 4 rows at q with row stride `ys` bytes. */
@inline function transpose4(a: v128, b: v128, c: v128, d: v128, q: usize, ys: usize): void {
  const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(c, d, 0, 4, 1, 5);
  const t3 = i32x4.shuffle(c, d, 2, 6, 3, 7);
  v128.store(q, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(q + ys, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(q + 2 * ys, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(q + 3 * ys, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

// Cache block: 32×32 floats (4 KiB read + 4 KiB written) stays in L1 while its 4×4 tiles are shuffled.
const TB: i32 = 32;

@inline function transposeBlocks(rowInner: bool, rows4: i32, cols4: i32, x: usize, y: usize, xs: usize, ys: usize): void {
  for (let rb = 0; rb < rows4; rb += TB) {
    const re = min(rb + TB, rows4);
    for (let cb = 0; cb < cols4; cb += TB) {
      const ce = min(cb + TB, cols4);
      if (rowInner) {
        for (let c = cb; c < ce; c += 4) {
          for (let r = rb; r < re; r += 4) {
            const pc = x + <usize>r * xs + (<usize>c << 2);
            transpose4(v128.load(pc), v128.load(pc + xs), v128.load(pc + 2 * xs), v128.load(pc + 3 * xs),
              y + (<usize>r << 2) + <usize>c * ys, ys);
          }
        }
      } else {
        for (let r = rb; r < re; r += 4) {
          for (let c = cb; c < ce; c += 4) {
            const pc = x + <usize>r * xs + (<usize>c << 2);
            transpose4(v128.load(pc), v128.load(pc + xs), v128.load(pc + 2 * xs), v128.load(pc + 3 * xs),
              y + (<usize>r << 2) + <usize>c * ys, ys);
          }
        }
      }
    }
  }
}

/** y[c, r] = x[r, c] for x [rows × cols]; y [cols × rows] must not overlap x. */
export function f32_transpose(rows: i32, cols: i32, x: usize, y: usize): void {
  if (rows <= 0 || cols <= 0) return;
  const xs = <usize>cols << 2, ys = <usize>rows << 2;
  const rows4 = rows & ~3, cols4 = cols & ~3;
  // When y's row stride is a multiple of 2 KiB, the 32 output rows of a block fall into a few L1 sets and
  // evict each other; walking r innermost then writes each output row contiguously instead (1024×1024:
  // 2.5 → 0.5 ns/element). Otherwise c innermost is a little faster.
  if ((rows & 511) == 0) transposeBlocks(true, rows4, cols4, x, y, xs, ys);
  else transposeBlocks(false, rows4, cols4, x, y, xs, ys);
  // Edges: the last cols % 4 columns of the first rows4 rows, then the last rows % 4 rows entirely.
  for (let r = 0; r < rows4; r++) {
    for (let c = cols4; c < cols; c++) {
      store<f32>(y + <usize>c * ys + (<usize>r << 2), load<f32>(x + <usize>r * xs + (<usize>c << 2)));
    }
  }
  for (let r = rows4; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      store<f32>(y + <usize>c * ys + (<usize>r << 2), load<f32>(x + <usize>r * xs + (<usize>c << 2)));
    }
  }
}

/** y[i] = v for i < n. */
export function f32_fill(n: i32, y: usize, v: f32): void {
  if (n <= 0) return;
  const end = y + (<usize>n << 2);
  const vv = f32x4.splat(v);
  let p = y;
  while (p + 64 <= end) {
    v128.store(p, vv); v128.store(p, vv, 16); v128.store(p, vv, 32); v128.store(p, vv, 48);
    p += 64;
  }
  while (p + 16 <= end) { v128.store(p, vv); p += 16; }
  while (p < end) { store<f32>(p, v); p += 4; }
}

/** y[i] = x[i] for i < n; the ranges may overlap (memmove semantics). */
export function f32_copy(n: i32, x: usize, y: usize): void {
  if (n <= 0 || x == y) return;
  memory.copy(y, x, <usize>n << 2);
}

/** α·x + β for 4 lanes in float64, rounded once to float32 (α·x is exact in float64). */
@inline function fma64(x: v128, a: v128, b: v128): v128 {
  const lo = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(x), a), b);
  const hi = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 2, 3)), a), b);
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}
/** α·x + y for 4 lanes in float64, rounded once. */
@inline function axpy64(x: v128, y: v128, a: v128): v128 {
  const lo = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(x), a), f64x2.promote_low_f32x4(y));
  const hi = f64x2.add(
    f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 2, 3)), a),
    f64x2.promote_low_f32x4(i32x4.shuffle(y, y, 2, 3, 2, 3)),
  );
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/**
 * y = α·x + β elementwise, rounded once (computed in float64, like the js backend: with two float32
 * roundings, α·x ≈ -β would cancel to tens of ulp). α = 1 or β = 0 take an exact float32 path. y may equal x.
 */
export function f32_affine(n: i32, x: usize, y: usize, alpha: f32, beta: f32): void {
  if (n <= 0) return;
  if (alpha == 1.0) affineLoop(true, n, x, y, alpha, beta);
  else if (beta == 0.0) affineLoop(true, n, x, y, alpha, beta);
  else affineLoop(false, n, x, y, alpha, beta);
}

@inline function affineLoop(single: bool, n: i32, x: usize, y: usize, alpha: f32, beta: f32): void {
  // With α = 1 or β = 0 one float32 operation is already correctly rounded (x·1 and x + 0 are exact,
  // except that -0 + 0 = +0, which the float64 path gives too).
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
  const wa = f64x2.splat(<f64>alpha), wb = f64x2.splat(<f64>beta);
  const end = x + (<usize>n << 2);
  const d = y - x;
  let p = x;
  while (p + 64 <= end) {
    const a0 = v128.load(p), a1 = v128.load(p, 16), a2 = v128.load(p, 32), a3 = v128.load(p, 48);
    v128.store(p + d, single ? f32x4.add(f32x4.mul(a0, va), vb) : fma64(a0, wa, wb));
    v128.store(p + d, single ? f32x4.add(f32x4.mul(a1, va), vb) : fma64(a1, wa, wb), 16);
    v128.store(p + d, single ? f32x4.add(f32x4.mul(a2, va), vb) : fma64(a2, wa, wb), 32);
    v128.store(p + d, single ? f32x4.add(f32x4.mul(a3, va), vb) : fma64(a3, wa, wb), 48);
    p += 64;
  }
  while (p + 16 <= end) {
    const a0 = v128.load(p);
    v128.store(p + d, single ? f32x4.add(f32x4.mul(a0, va), vb) : fma64(a0, wa, wb));
    p += 16;
  }
  while (p < end) {
    const v = load<f32>(p);
    store<f32>(p + d, single ? v * alpha + beta : <f32>(<f64>v * <f64>alpha + <f64>beta));
    p += 4;
  }
}

/** y += α·x elementwise, rounded once (float64 unless α = ±1, where float32 is already exact); y may equal x. */
export function f32_axpy(n: i32, alpha: f32, x: usize, y: usize): void {
  if (n <= 0) return;
  if (alpha == 1.0 || alpha == -1.0) axpyLoop(true, n, alpha, x, y);
  else axpyLoop(false, n, alpha, x, y);
}

@inline function axpyLoop(single: bool, n: i32, alpha: f32, x: usize, y: usize): void {
  const va = f32x4.splat(alpha);
  const wa = f64x2.splat(<f64>alpha);
  const end = x + (<usize>n << 2);
  const d = y - x;
  let p = x;
  while (p + 64 <= end) {
    const a0 = v128.load(p), a1 = v128.load(p, 16), a2 = v128.load(p, 32), a3 = v128.load(p, 48);
    const y0 = v128.load(p + d), y1 = v128.load(p + d, 16), y2 = v128.load(p + d, 32), y3 = v128.load(p + d, 48);
    v128.store(p + d, single ? f32x4.add(y0, f32x4.mul(a0, va)) : axpy64(a0, y0, wa));
    v128.store(p + d, single ? f32x4.add(y1, f32x4.mul(a1, va)) : axpy64(a1, y1, wa), 16);
    v128.store(p + d, single ? f32x4.add(y2, f32x4.mul(a2, va)) : axpy64(a2, y2, wa), 32);
    v128.store(p + d, single ? f32x4.add(y3, f32x4.mul(a3, va)) : axpy64(a3, y3, wa), 48);
    p += 64;
  }
  while (p + 16 <= end) {
    const a0 = v128.load(p), y0 = v128.load(p + d);
    v128.store(p + d, single ? f32x4.add(y0, f32x4.mul(a0, va)) : axpy64(a0, y0, wa));
    p += 16;
  }
  while (p < end) {
    const v = load<f32>(p), w = load<f32>(p + d);
    store<f32>(p + d, single ? w + v * alpha : <f32>(<f64>w + <f64>v * <f64>alpha));
    p += 4;
  }
}
