// Row-wise softmax / log-softmax and the fused softmax + cross-entropy (forward and gradient).
//
// Each row: its max m (NaN propagates), then e = exp(x - m) with x - m taken exactly, summed in float64, then
// scaled by 1/sum in float64 (one rounding). Losses are logsumexp - logit (not -log(prob)) in float64, rounded
// once. A row of all -Inf, or with NaN or +Inf, gives NaN, as in PyTorch.
import { L_DENSE, L_INDEX } from './codes';
import { vexpSub, vsubErr, kf, K_NEG_INF } from './vmath';

/**
 * Row max with pmax (one maxps; f32x4.max is ~8 instructions on x64). pmax skips NaN and may return -0 for a
 * row of ±0, neither of which matters here: a NaN entry still makes its e, the sum and so the whole row NaN,
 * and x - (±0) gives the same e.
 */
@inline function rowMax(n: i32, p: usize): f32 {
  const end = p + (<usize>n << 2);
  const init = kf(K_NEG_INF);
  let m0 = init, m1 = init, m2 = init, m3 = init;
  while (p + 64 <= end) {
    m0 = f32x4.pmax(m0, v128.load(p));
    m1 = f32x4.pmax(m1, v128.load(p, 16));
    m2 = f32x4.pmax(m2, v128.load(p, 32));
    m3 = f32x4.pmax(m3, v128.load(p, 48));
    p += 64;
  }
  while (p + 16 <= end) {
    m0 = f32x4.pmax(m0, v128.load(p));
    p += 16;
  }
  m0 = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
  m0 = f32x4.pmax(m0, i32x4.shuffle(m0, m0, 2, 3, 2, 3));
  m0 = f32x4.pmax(m0, i32x4.shuffle(m0, m0, 1, 1, 1, 1));
  let s = f32x4.extract_lane(m0, 0);
  while (p < end) {
    const v = load<f32>(p);
    if (v > s) s = v;
    p += 4;
  }
  return s;
}

@inline function sum4lo(acc0: v128, e: v128): v128 {
  return f64x2.add(acc0, f64x2.promote_low_f32x4(e));
}
@inline function sum4hi(acc1: v128, e: v128): v128 {
  return f64x2.add(acc1, f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 2, 3)));
}

/**
 * Writes e = exp(x - m) to y when `keep` (y may equal x) and returns log Σe, or Σe when `!wantLog`, in
 * float64. The elements equal to m (e = 1 exactly) are counted apart from the rest, so that
 * log Σe = log k + log1p(rest/k) keeps full precision even when the rest is below float64's 1 + 2^-52
 * (the max element's log-prob and a confident row's loss are then exact to the last bit, not 0 or ±2e-16).
 */
@inline function rowExpSum(n: i32, x: usize, y: usize, m: f32, keep: bool, wantLog: bool): f64 {
  const end = x + (<usize>n << 2);
  const d = y - x;
  const vm = f32x4.splat(m);
  const z = f64x2.splat(0.0);
  let a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
  let k0 = i32x4.splat(0), k1 = k0;
  let p = x;
  while (p + 32 <= end) {
    const x0 = v128.load(p), x1 = v128.load(p, 16);
    const e0 = vexpSub(x0, vm), e1 = vexpSub(x1, vm);
    if (keep) { v128.store(p + d, e0); v128.store(p + d, e1, 16); }
    const q0 = f32x4.eq(x0, vm), q1 = f32x4.eq(x1, vm);
    k0 = i32x4.sub(k0, q0); k1 = i32x4.sub(k1, q1);
    const r0 = v128.andnot(e0, q0), r1 = v128.andnot(e1, q1);
    a0 = sum4lo(a0, r0); a1 = sum4hi(a1, r0);
    a2 = sum4lo(a2, r1); a3 = sum4hi(a3, r1);
    p += 32;
  }
  while (p + 16 <= end) {
    const x0 = v128.load(p);
    const e0 = vexpSub(x0, vm);
    if (keep) v128.store(p + d, e0);
    const q0 = f32x4.eq(x0, vm);
    k0 = i32x4.sub(k0, q0);
    const r0 = v128.andnot(e0, q0);
    a4 = sum4lo(a4, r0); a5 = sum4hi(a5, r0);
    p += 16;
  }
  a0 = f64x2.add(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)), f64x2.add(f64x2.add(a4, a5), f64x2.add(a6, a7)));
  let rest = f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1);
  k0 = i32x4.add(k0, k1);
  let k = i32x4.extract_lane(k0, 0) + i32x4.extract_lane(k0, 1) + i32x4.extract_lane(k0, 2) +
    i32x4.extract_lane(k0, 3);
  while (p < end) {
    const xv = load<f32>(p);
    const e = f32x4.extract_lane(vexpSub(f32x4.splat(xv), vm), 0);
    if (keep) store<f32>(p + d, e);
    if (xv == m) k++;
    else rest += <f64>e;
    p += 4;
  }
  // m = +Inf: Inf - Inf is NaN, and the whole row is NaN (as in PyTorch), not just the Inf entries.
  if (m == Infinity) rest = NaN;
  const kf = <f64>k;
  return wantLog ? Math.log(kf) + Math.log1p(rest / kf) : kf + rest;
}

/** y[i] *= r, computed in float64 and rounded once. */
@inline function scaleRow(n: i32, y: usize, r: f64): void {
  const end = y + (<usize>n << 2);
  const vr = f64x2.splat(r);
  let p = y;
  while (p + 32 <= end) {
    const e0 = v128.load(p), e1 = v128.load(p, 16);
    v128.store(p, mulRound(e0, vr));
    v128.store(p, mulRound(e1, vr), 16);
    p += 32;
  }
  while (p + 16 <= end) {
    v128.store(p, mulRound(v128.load(p), vr));
    p += 16;
  }
  while (p < end) {
    store<f32>(p, <f32>(<f64>load<f32>(p) * r));
    p += 4;
  }
}
@inline function mulRound(e: v128, vr: v128): v128 {
  const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(e), vr));
  const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 2, 3)), vr));
  return i32x4.shuffle(lo, hi, 0, 1, 4, 5);
}

/** y = x - m - log(s), with x - m exact and log(s) split in two floats. y may equal x. */
@inline function logRow(n: i32, x: usize, y: usize, m: f32, ls: f64): void {
  const lsHi = <f32>ls;
  const lsLo = <f32>(ls - <f64>lsHi);
  const end = x + (<usize>n << 2);
  const off = y - x;
  const vm = f32x4.splat(m), vh = f32x4.splat(lsHi), vl = f32x4.splat(lsLo);
  let p = x;
  while (p + 32 <= end) {
    const x0 = v128.load(p), x1 = v128.load(p, 16);
    v128.store(p + off, logOne(x0, vm, vh, vl));
    v128.store(p + off, logOne(x1, vm, vh, vl), 16);
    p += 32;
  }
  while (p + 16 <= end) {
    v128.store(p + off, logOne(v128.load(p), vm, vh, vl));
    p += 16;
  }
  while (p < end) {
    store<f32>(p + off, f32x4.extract_lane(logOne(v128.load32_splat(p), vm, vh, vl), 0));
    p += 4;
  }
}
@inline function logOne(x: v128, m: v128, lsHi: v128, lsLo: v128): v128 {
  const d = f32x4.sub(x, m);
  return f32x4.add(f32x4.sub(d, lsHi), f32x4.sub(vsubErr(x, m, d), lsLo));
}

/** Row-wise softmax (log = 0) or log-softmax (log = 1) of x[rows × cols] into y; y may equal x. */
export function f32_softmax(rows: i32, cols: i32, x: usize, y: usize, log: i32): void {
  if (rows <= 0 || cols <= 0) return;
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const px = x + <usize>r * rowBytes, py = y + <usize>r * rowBytes;
    const m = rowMax(cols, px);
    if (log) {
      logRow(cols, px, py, m, rowExpSum(cols, px, py, m, false, true));
    } else {
      scaleRow(cols, py, 1.0 / rowExpSum(cols, px, py, m, true, false));
    }
  }
}

/** Σ t·(m - x) over t != 0 in float64 (0·log 0 counts as 0, so -Inf logits with zero target are fine). */
@inline function denseDot(n: i32, x: usize, t: usize, m: f32): f64 {
  const end = x + (<usize>n << 2);
  const dt = t - x;
  const vm = f64x2.splat(<f64>m);
  const z = f64x2.splat(0.0);
  let a0 = z, a1 = z;
  let p = x;
  while (p + 16 <= end) {
    const xv = v128.load(p), tv = v128.load(p + dt);
    const xl = f64x2.promote_low_f32x4(xv), xh = f64x2.promote_low_f32x4(i32x4.shuffle(xv, xv, 2, 3, 2, 3));
    const tl = f64x2.promote_low_f32x4(tv), th = f64x2.promote_low_f32x4(i32x4.shuffle(tv, tv, 2, 3, 2, 3));
    a0 = f64x2.add(a0, v128.and(f64x2.mul(tl, f64x2.sub(vm, xl)), f64x2.ne(tl, z)));
    a1 = f64x2.add(a1, v128.and(f64x2.mul(th, f64x2.sub(vm, xh)), f64x2.ne(th, z)));
    p += 16;
  }
  let s = f64x2.extract_lane(f64x2.add(a0, a1), 0) + f64x2.extract_lane(f64x2.add(a0, a1), 1);
  while (p < end) {
    const tv = <f64>load<f32>(p + dt);
    if (tv != 0) s += tv * (<f64>m - <f64>load<f32>(p));
    p += 4;
  }
  return s;
}

@inline function denseSum(n: i32, t: usize): f64 {
  const end = t + (<usize>n << 2);
  const z = f64x2.splat(0.0);
  let a0 = z, a1 = z;
  let p = t;
  while (p + 16 <= end) {
    const tv = v128.load(p);
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(tv));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(i32x4.shuffle(tv, tv, 2, 3, 2, 3)));
    p += 16;
  }
  let s = f64x2.extract_lane(f64x2.add(a0, a1), 0) + f64x2.extract_lane(f64x2.add(a0, a1), 1);
  while (p < end) {
    s += <f64>load<f32>(p);
    p += 4;
  }
  return s;
}

/** The class index in labels[r] if it is an integer in [0, cols), else -1 (NaN included). */
@inline function labelIndex(v: f32, cols: i32): i32 {
  return v >= 0 && v < <f32>cols && v == Mathf.floor(v) ? <i32>v : -1;
}

/**
 * probs = softmax(logits); loss[r] = -Σ target·log probs, computed as logsumexp - logit[label] (mode 0:
 * labels[r] is a class index stored as f32; invalid index → NaN loss) or Σ t·(logsumexp - logit) (mode 1:
 * labels is [rows × cols]). probs may equal logits.
 */
export function f32_softmax_xent(
  rows: i32, cols: i32, logits: usize, labels: usize, mode: i32, probs: usize, loss: usize,
): void {
  if (rows <= 0 || cols <= 0) return;
  if (mode != L_INDEX && mode != L_DENSE) unreachable(); // a label mode of the op table this kernel lacks
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const px = logits + <usize>r * rowBytes, pp = probs + <usize>r * rowBytes;
    const m = rowMax(cols, px);
    let l: f64;
    if (mode == L_INDEX) {
      const k = labelIndex(load<f32>(labels + (<usize>r << 2)), cols);
      // Read the target logit before probs (maybe the same memory) is written.
      const xk: f64 = k >= 0 ? <f64>load<f32>(px + (<usize>k << 2)) : NaN;
      const ls = rowExpSum(cols, px, pp, m, true, true);
      l = (<f64>m - xk) + ls;
      scaleRow(cols, pp, Math.exp(-ls));
    } else {
      const pt = labels + <usize>r * rowBytes;
      const dot = denseDot(cols, px, pt, m);
      const tsum = denseSum(cols, pt);
      const ls = rowExpSum(cols, px, pp, m, true, true);
      l = dot + tsum * ls;
      scaleRow(cols, pp, Math.exp(-ls));
    }
    store<f32>(loss + (<usize>r << 2), <f32>l);
  }
}

/**
 * dlogits[r, c] = dy[r]·(probs[r, c] - target[r, c]) (mode 0: one-hot of labels[r], an invalid index gives a
 * NaN row; mode 1: labels is [rows × cols]). dlogits may equal probs.
 */
export function f32_softmax_xent_grad(
  rows: i32, cols: i32, probs: usize, labels: usize, mode: i32, dy: usize, dlogits: usize,
): void {
  if (rows <= 0 || cols <= 0) return;
  if (mode != L_INDEX && mode != L_DENSE) unreachable();
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const pp = probs + <usize>r * rowBytes, po = dlogits + <usize>r * rowBytes;
    const g = load<f32>(dy + (<usize>r << 2));
    const vg = f32x4.splat(g);
    const end = pp + rowBytes;
    const off = po - pp;
    let p = pp;
    if (mode == L_INDEX) {
      const k = labelIndex(load<f32>(labels + (<usize>r << 2)), cols);
      if (k < 0) {
        fillRow(cols, po, NaN);
        continue;
      }
      const pk = load<f32>(pp + (<usize>k << 2)); // before the row (maybe the same memory) is overwritten
      while (p + 32 <= end) {
        const a0 = v128.load(p), a1 = v128.load(p, 16);
        v128.store(p + off, f32x4.mul(a0, vg));
        v128.store(p + off, f32x4.mul(a1, vg), 16);
        p += 32;
      }
      while (p + 16 <= end) {
        v128.store(p + off, f32x4.mul(v128.load(p), vg));
        p += 16;
      }
      while (p < end) {
        store<f32>(p + off, load<f32>(p) * g);
        p += 4;
      }
      store<f32>(po + (<usize>k << 2), (pk - 1.0) * g);
    } else {
      const dt = labels + <usize>r * rowBytes - pp;
      while (p + 32 <= end) {
        const a0 = v128.load(p), a1 = v128.load(p, 16);
        const t0 = v128.load(p + dt), t1 = v128.load(p + dt, 16);
        v128.store(p + off, f32x4.mul(f32x4.sub(a0, t0), vg));
        v128.store(p + off, f32x4.mul(f32x4.sub(a1, t1), vg), 16);
        p += 32;
      }
      while (p + 16 <= end) {
        v128.store(p + off, f32x4.mul(f32x4.sub(v128.load(p), v128.load(p + dt)), vg));
        p += 16;
      }
      while (p < end) {
        store<f32>(p + off, (load<f32>(p) - load<f32>(p + dt)) * g);
        p += 4;
      }
    }
  }
}

@inline function fillRow(n: i32, y: usize, v: f32): void {
  const end = y + (<usize>n << 2);
  const vv = f32x4.splat(v);
  let p = y;
  while (p + 16 <= end) { v128.store(p, vv); p += 16; }
  while (p < end) { store<f32>(p, v); p += 4; }
}
