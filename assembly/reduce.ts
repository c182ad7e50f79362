// Reductions over the middle axis of [outer, n, inner]: out[o·inner + i] = reduce_j x[(o·n + j)·inner + i].
//
// inner == 1 reduces contiguous rows horizontally (several vector accumulators, then across lanes);
// inner > 1 reduces down columns with the lanes running across inner (16 columns at a time, then 4, then
// scalar columns). Sums accumulate in float64 (f64x2 lanes): the result is then within ~0.5 ulp of the exact
// sum whatever n is, which is what the float64 js backend computes, and the cost hides under the loads.
// max/min propagate NaN (like Math.max); argmax/argmin return the first index of the extreme, or of the
// first NaN if there is one (like numpy), written as a float.
import { R_SUM, R_MEAN, R_MAX, R_MIN, R_ARGMAX, R_ARGMIN, R_SUM_SQUARES } from './codes';

// ---- sums (sum, mean, sumSquares) in float64 ------------------------------------------------------------

@inline function lo64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
@inline function hi64(v: v128): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3));
}
/** Adds the four lanes of v (squared when sq) into the two f64x2 accumulators. */
@inline function acc2(sq: bool, acc: v128, v: v128, half: i32): v128 {
  const w = half == 0 ? lo64(v) : hi64(v);
  return f64x2.add(acc, sq ? f64x2.mul(w, w) : w);
}

@inline function rowSum(sq: bool, n: i32, p: usize): f64 {
  const end = p + (<usize>n << 2);
  const z = f64x2.splat(0.0);
  let a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
  while (p + 64 <= end) {
    const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
    a0 = acc2(sq, a0, v0, 0); a1 = acc2(sq, a1, v0, 1);
    a2 = acc2(sq, a2, v1, 0); a3 = acc2(sq, a3, v1, 1);
    a4 = acc2(sq, a4, v2, 0); a5 = acc2(sq, a5, v2, 1);
    a6 = acc2(sq, a6, v3, 0); a7 = acc2(sq, a7, v3, 1);
    p += 64;
  }
  while (p + 16 <= end) {
    const v0 = v128.load(p);
    a0 = acc2(sq, a0, v0, 0); a1 = acc2(sq, a1, v0, 1);
    p += 16;
  }
  a0 = f64x2.add(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)), f64x2.add(f64x2.add(a4, a5), f64x2.add(a6, a7)));
  let s = f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1);
  while (p < end) {
    const v = <f64>load<f32>(p);
    s += sq ? v * v : v;
    p += 4;
  }
  return s;
}

/** Column sums for `inner` columns starting at p (row stride `stride` bytes), written to out as f32. */
@inline function colSums(sq: bool, mean: bool, n: i32, inner: i32, p: usize, out: usize): void {
  const stride = <usize>inner << 2;
  const nf = <f64>n;
  let i = 0;
  const z = f64x2.splat(0.0);
  for (; i + 16 <= inner; i += 16) {
    let a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
    let q = p + (<usize>i << 2);
    for (let j = 0; j < n; j++) {
      const v0 = v128.load(q), v1 = v128.load(q, 16), v2 = v128.load(q, 32), v3 = v128.load(q, 48);
      a0 = acc2(sq, a0, v0, 0); a1 = acc2(sq, a1, v0, 1);
      a2 = acc2(sq, a2, v1, 0); a3 = acc2(sq, a3, v1, 1);
      a4 = acc2(sq, a4, v2, 0); a5 = acc2(sq, a5, v2, 1);
      a6 = acc2(sq, a6, v3, 0); a7 = acc2(sq, a7, v3, 1);
      q += stride;
    }
    const o = out + (<usize>i << 2);
    storeSums(mean, nf, o, 0, a0, a1);
    storeSums(mean, nf, o, 16, a2, a3);
    storeSums(mean, nf, o, 32, a4, a5);
    storeSums(mean, nf, o, 48, a6, a7);
  }
  for (; i + 4 <= inner; i += 4) {
    let a0 = z, a1 = z;
    let q = p + (<usize>i << 2);
    for (let j = 0; j < n; j++) {
      const v0 = v128.load(q);
      a0 = acc2(sq, a0, v0, 0); a1 = acc2(sq, a1, v0, 1);
      q += stride;
    }
    storeSums(mean, nf, out + (<usize>i << 2), 0, a0, a1);
  }
  for (; i < inner; i++) {
    let s: f64 = 0;
    let q = p + (<usize>i << 2);
    for (let j = 0; j < n; j++) {
      const v = <f64>load<f32>(q);
      s += sq ? v * v : v;
      q += stride;
    }
    store<f32>(out + (<usize>i << 2), <f32>(mean ? s / nf : s));
  }
}

@inline function storeSums(mean: bool, nf: f64, o: usize, off: usize, lo: v128, hi: v128): void {
  if (mean) {
    // Divide (not multiply by 1/n, which rounds twice), like the js backend.
    const nn = f64x2.splat(nf);
    lo = f64x2.div(lo, nn);
    hi = f64x2.div(hi, nn);
  }
  const r = i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
  v128.store(o + off, r);
}

// ---- max / min ------------------------------------------------------------------------------------------

@inline function vext(isMax: bool, a: v128, b: v128): v128 {
  return isMax ? f32x4.max(a, b) : f32x4.min(a, b);
}
@inline function sext(isMax: bool, a: f32, b: f32): f32 {
  return isMax ? max<f32>(a, b) : min<f32>(a, b); // f32.max/min: same NaN and ±0 rules as the vector ops
}

@inline function rowExt(isMax: bool, n: i32, p: usize): f32 {
  const end = p + (<usize>n << 2);
  const init = f32x4.splat(isMax ? -Infinity : Infinity);
  let m0 = init, m1 = init, m2 = init, m3 = init;
  while (p + 64 <= end) {
    m0 = vext(isMax, m0, v128.load(p));
    m1 = vext(isMax, m1, v128.load(p, 16));
    m2 = vext(isMax, m2, v128.load(p, 32));
    m3 = vext(isMax, m3, v128.load(p, 48));
    p += 64;
  }
  while (p + 16 <= end) {
    m0 = vext(isMax, m0, v128.load(p));
    p += 16;
  }
  m0 = vext(isMax, vext(isMax, m0, m1), vext(isMax, m2, m3));
  m0 = vext(isMax, m0, i32x4.shuffle(m0, m0, 2, 3, 2, 3));
  let s = sext(isMax, f32x4.extract_lane(m0, 0), f32x4.extract_lane(m0, 1));
  while (p < end) {
    s = sext(isMax, s, load<f32>(p));
    p += 4;
  }
  return s;
}

@inline function colExt(isMax: bool, n: i32, inner: i32, p: usize, out: usize): void {
  const stride = <usize>inner << 2;
  let i = 0;
  for (; i + 16 <= inner; i += 16) {
    let q = p + (<usize>i << 2);
    let m0 = v128.load(q), m1 = v128.load(q, 16), m2 = v128.load(q, 32), m3 = v128.load(q, 48);
    for (let j = 1; j < n; j++) {
      q += stride;
      m0 = vext(isMax, m0, v128.load(q));
      m1 = vext(isMax, m1, v128.load(q, 16));
      m2 = vext(isMax, m2, v128.load(q, 32));
      m3 = vext(isMax, m3, v128.load(q, 48));
    }
    const o = out + (<usize>i << 2);
    v128.store(o, m0); v128.store(o, m1, 16); v128.store(o, m2, 32); v128.store(o, m3, 48);
  }
  for (; i + 4 <= inner; i += 4) {
    let q = p + (<usize>i << 2);
    let m0 = v128.load(q);
    for (let j = 1; j < n; j++) {
      q += stride;
      m0 = vext(isMax, m0, v128.load(q));
    }
    v128.store(out + (<usize>i << 2), m0);
  }
  for (; i < inner; i++) {
    let q = p + (<usize>i << 2);
    let s = load<f32>(q);
    for (let j = 1; j < n; j++) {
      q += stride;
      s = sext(isMax, s, load<f32>(q));
    }
    store<f32>(out + (<usize>i << 2), s);
  }
}

// ---- argmax / argmin ------------------------------------------------------------------------------------

/** Lanes where v beats m: strictly greater (smaller), or v is NaN and m is not. Ties keep the earlier m. */
@inline function vbetter(isMax: bool, v: v128, m: v128): v128 {
  const cmp = isMax ? f32x4.gt(v, m) : f32x4.lt(v, m);
  return v128.or(cmp, v128.andnot(f32x4.ne(v, v), f32x4.ne(m, m)));
}
@inline function sbetter(isMax: bool, v: f32, m: f32): bool {
  return (isMax ? v > m : v < m) || (v != v && m == m);
}
/** Lanes where (vb, ib) should replace (va, ia) when merging candidates: better, or as good and earlier. */
@inline function vmergeMask(isMax: bool, va: v128, ia: v128, vb: v128, ib: v128): v128 {
  const same = v128.or(f32x4.eq(va, vb), v128.and(f32x4.ne(va, va), f32x4.ne(vb, vb)));
  return v128.or(vbetter(isMax, vb, va), v128.and(same, i32x4.lt_s(ib, ia)));
}

@inline function rowArg(isMax: bool, n: i32, p: usize): i32 {
  let j = 0;
  let m: f32;
  let best: i32;
  if (n >= 4) {
    let m0 = v128.load(p);
    let i0 = i32x4(0, 1, 2, 3);
    j = 4;
    if (n >= 32) {
      let m1 = v128.load(p, 16), m2 = v128.load(p, 32), m3 = v128.load(p, 48);
      let i1 = i32x4(4, 5, 6, 7), i2 = i32x4(8, 9, 10, 11), i3 = i32x4(12, 13, 14, 15);
      let jv = i32x4(16, 17, 18, 19);
      j = 16;
      for (; j + 16 <= n; j += 16) {
        const q = p + (<usize>j << 2);
        const v0 = v128.load(q), v1 = v128.load(q, 16), v2 = v128.load(q, 32), v3 = v128.load(q, 48);
        const c0 = vbetter(isMax, v0, m0), c1 = vbetter(isMax, v1, m1);
        const c2 = vbetter(isMax, v2, m2), c3 = vbetter(isMax, v3, m3);
        m0 = v128.bitselect(v0, m0, c0); i0 = v128.bitselect(jv, i0, c0);
        m1 = v128.bitselect(v1, m1, c1); i1 = v128.bitselect(i32x4.add(jv, i32x4.splat(4)), i1, c1);
        m2 = v128.bitselect(v2, m2, c2); i2 = v128.bitselect(i32x4.add(jv, i32x4.splat(8)), i2, c2);
        m3 = v128.bitselect(v3, m3, c3); i3 = v128.bitselect(i32x4.add(jv, i32x4.splat(12)), i3, c3);
        jv = i32x4.add(jv, i32x4.splat(16));
      }
      let c = vmergeMask(isMax, m0, i0, m1, i1);
      m0 = v128.bitselect(m1, m0, c); i0 = v128.bitselect(i1, i0, c);
      c = vmergeMask(isMax, m2, i2, m3, i3);
      m2 = v128.bitselect(m3, m2, c); i2 = v128.bitselect(i3, i2, c);
      c = vmergeMask(isMax, m0, i0, m2, i2);
      m0 = v128.bitselect(m2, m0, c); i0 = v128.bitselect(i2, i0, c);
    }
    let jv = i32x4.add(i32x4.splat(j), i32x4(0, 1, 2, 3));
    for (; j + 4 <= n; j += 4) {
      const v0 = v128.load(p + (<usize>j << 2));
      const c0 = vbetter(isMax, v0, m0);
      m0 = v128.bitselect(v0, m0, c0); i0 = v128.bitselect(jv, i0, c0);
      jv = i32x4.add(jv, i32x4.splat(4));
    }
    // Across lanes: 2+3 into 0+1, then 1 into 0.
    let mb = i32x4.shuffle(m0, m0, 2, 3, 2, 3), ib = i32x4.shuffle(i0, i0, 2, 3, 2, 3);
    let c = vmergeMask(isMax, m0, i0, mb, ib);
    m0 = v128.bitselect(mb, m0, c); i0 = v128.bitselect(ib, i0, c);
    mb = i32x4.shuffle(m0, m0, 1, 1, 1, 1); ib = i32x4.shuffle(i0, i0, 1, 1, 1, 1);
    c = vmergeMask(isMax, m0, i0, mb, ib);
    m0 = v128.bitselect(mb, m0, c); i0 = v128.bitselect(ib, i0, c);
    m = f32x4.extract_lane(m0, 0);
    best = i32x4.extract_lane(i0, 0);
  } else {
    m = load<f32>(p);
    best = 0;
    j = 1;
  }
  for (; j < n; j++) {
    const v = load<f32>(p + (<usize>j << 2));
    if (sbetter(isMax, v, m)) { m = v; best = j; }
  }
  return best;
}

@inline function colArg(isMax: bool, n: i32, inner: i32, p: usize, out: usize): void {
  const stride = <usize>inner << 2;
  let i = 0;
  for (; i + 16 <= inner; i += 16) {
    let q = p + (<usize>i << 2);
    let m0 = v128.load(q), m1 = v128.load(q, 16), m2 = v128.load(q, 32), m3 = v128.load(q, 48);
    let i0 = i32x4.splat(0), i1 = i0, i2 = i0, i3 = i0;
    for (let j = 1; j < n; j++) {
      q += stride;
      const jv = i32x4.splat(j);
      const v0 = v128.load(q), v1 = v128.load(q, 16), v2 = v128.load(q, 32), v3 = v128.load(q, 48);
      const c0 = vbetter(isMax, v0, m0), c1 = vbetter(isMax, v1, m1);
      const c2 = vbetter(isMax, v2, m2), c3 = vbetter(isMax, v3, m3);
      m0 = v128.bitselect(v0, m0, c0); i0 = v128.bitselect(jv, i0, c0);
      m1 = v128.bitselect(v1, m1, c1); i1 = v128.bitselect(jv, i1, c1);
      m2 = v128.bitselect(v2, m2, c2); i2 = v128.bitselect(jv, i2, c2);
      m3 = v128.bitselect(v3, m3, c3); i3 = v128.bitselect(jv, i3, c3);
    }
    const o = out + (<usize>i << 2);
    v128.store(o, f32x4.convert_i32x4_s(i0));
    v128.store(o, f32x4.convert_i32x4_s(i1), 16);
    v128.store(o, f32x4.convert_i32x4_s(i2), 32);
    v128.store(o, f32x4.convert_i32x4_s(i3), 48);
  }
  for (; i + 4 <= inner; i += 4) {
    let q = p + (<usize>i << 2);
    let m0 = v128.load(q);
    let i0 = i32x4.splat(0);
    for (let j = 1; j < n; j++) {
      q += stride;
      const v0 = v128.load(q);
      const c0 = vbetter(isMax, v0, m0);
      m0 = v128.bitselect(v0, m0, c0); i0 = v128.bitselect(i32x4.splat(j), i0, c0);
    }
    v128.store(out + (<usize>i << 2), f32x4.convert_i32x4_s(i0));
  }
  for (; i < inner; i++) {
    let q = p + (<usize>i << 2);
    let m = load<f32>(q);
    let best = 0;
    for (let j = 1; j < n; j++) {
      q += stride;
      const v = load<f32>(q);
      if (sbetter(isMax, v, m)) { m = v; best = j; }
    }
    store<f32>(out + (<usize>i << 2), <f32>best);
  }
}

// ---- entry ----------------------------------------------------------------------------------------------

@inline function reduceAll(op: i32, outer: i32, n: i32, inner: i32, x: usize, out: usize): void {
  const slab = (<usize>n * <usize>inner) << 2;
  for (let o = 0; o < outer; o++) {
    const p = x + <usize>o * slab;
    if (inner == 1) {
      const q = out + (<usize>o << 2);
      if (op == R_SUM) store<f32>(q, <f32>rowSum(false, n, p));
      else if (op == R_MEAN) store<f32>(q, <f32>(rowSum(false, n, p) / <f64>n));
      else if (op == R_SUM_SQUARES) store<f32>(q, <f32>rowSum(true, n, p));
      else if (op == R_MAX) store<f32>(q, rowExt(true, n, p));
      else if (op == R_MIN) store<f32>(q, rowExt(false, n, p));
      else if (op == R_ARGMAX) store<f32>(q, <f32>rowArg(true, n, p));
      else if (op == R_ARGMIN) store<f32>(q, <f32>rowArg(false, n, p));
    } else {
      const q = out + ((<usize>o * <usize>inner) << 2);
      if (op == R_SUM) colSums(false, false, n, inner, p, q);
      else if (op == R_MEAN) colSums(false, true, n, inner, p, q);
      else if (op == R_SUM_SQUARES) colSums(true, false, n, inner, p, q);
      else if (op == R_MAX) colExt(true, n, inner, p, q);
      else if (op == R_MIN) colExt(false, n, inner, p, q);
      else if (op == R_ARGMAX) colArg(true, n, inner, p, q);
      else if (op == R_ARGMIN) colArg(false, n, inner, p, q);
    }
  }
}

/**
 * out[o·inner + i] = reduce over j < n of x[(o·n + j)·inner + i]. Any size 0 means no work (the caller
 * defines empty reductions). out may equal x: every output is written after the inputs at and before its
 * position have been read.
 */
export function f32_reduce(op: i32, outer: i32, n: i32, inner: i32, x: usize, out: usize): void {
  if (outer <= 0 || n <= 0 || inner <= 0) return;
  switch (op) {
    case R_SUM: { reduceAll(R_SUM, outer, n, inner, x, out); break; }
    case R_MEAN: { reduceAll(R_MEAN, outer, n, inner, x, out); break; }
    case R_MAX: { reduceAll(R_MAX, outer, n, inner, x, out); break; }
    case R_MIN: { reduceAll(R_MIN, outer, n, inner, x, out); break; }
    case R_ARGMAX: { reduceAll(R_ARGMAX, outer, n, inner, x, out); break; }
    case R_ARGMIN: { reduceAll(R_ARGMIN, outer, n, inner, x, out); break; }
    case R_SUM_SQUARES: { reduceAll(R_SUM_SQUARES, outer, n, inner, x, out); break; }
    default: unreachable(); // a code of the op table this kernel lacks
  }
}
