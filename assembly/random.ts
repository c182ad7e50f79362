// Normal deviates for weight initialisation: the seeded generator of src/core/random.ts (sfc32 and
// Box–Muller) continued from a state the caller passes in memory, written straight into a tensor.
//
// The numbers must equal the js backend's bit for bit, so log, sin and cos are fdlibm's algorithms as
// src/core/libm.ts computes them (plain f64 +, -, *, /, which wasm rounds exactly as JS does and never
// fuses), not the standard library's Math (musl-derived, different in the last bit). libm.ts reaches
// fdlibm's high-word tests by arithmetic; here they read the bits. test/conformance.test.ts checks the two
// against each other at every branch edge.

// State block (32 bytes, 8-aligned; src/core/random.ts, StreamState): sfc32's a, b, c, d (u32) at 0..15,
// the Box–Muller spare (f64) at 16, and whether the spare is pending (u32, 0 or 1) at 24.
const ST_SPARE: usize = 16;
const ST_HAS_SPARE: usize = 24;

const INV32: f64 = 1.0 / 4294967296.0;
const TAU: f64 = 2 * Math.PI;

const LN2_HI: f64 = 6.93147180369123816490e-1;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const LG1: f64 = 6.666666666666735130e-1, LG2: f64 = 3.999999999940941908e-1, LG3: f64 = 2.857142874366239149e-1;
const LG4: f64 = 2.222219843214978396e-1, LG5: f64 = 1.818357216161805012e-1, LG6: f64 = 1.531383769920937332e-1;
const LG7: f64 = 1.479819860511658591e-1;

@inline function highWord(x: f64): i32 {
  return <i32>(reinterpret<u64>(x) >> 32);
}

/** ln(x) for 0 < x ≤ 1 (fdlibm's log; libm.ts, lnOneMinus). */
@inline function logUnit(x: f64): f64 {
  let hx = highWord(x);
  let k = (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const i = (hx + 0x95f64) & 0x100000;
  const lo = reinterpret<u64>(x) & 0xffffffff;
  const xn = reinterpret<f64>((<u64>(hx | (i ^ 0x3ff00000)) << 32) | lo);
  k += i >> 20;
  const f = xn - 1.0;
  const dk = <f64>k;
  if ((0x000fffff & (2 + hx)) < 3) {
    if (f == 0) return k == 0 ? 0 : dk * LN2_HI + dk * LN2_LO;
    const r = f * f * (0.5 - 0.33333333333333333 * f);
    return k == 0 ? f - r : dk * LN2_HI - ((r - dk * LN2_LO) - f);
  }
  const s = f / (2.0 + f);
  const z = s * s;
  const w = z * z;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const r = t2 + t1;
  if (((hx - 0x6147a) | (0x6b851 - hx)) > 0) {
    const hfsq = 0.5 * f * f;
    return k == 0 ? f - (hfsq - s * (hfsq + r)) : dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f);
  }
  return k == 0 ? f - s * (f - r) : dk * LN2_HI - ((s * (f - r) - dk * LN2_LO) - f);
}

const S1: f64 = -1.66666666666666324348e-1, S2: f64 = 8.33333333332248946124e-3, S3: f64 = -1.98412698298579493134e-4;
const S4: f64 = 2.75573137070700676789e-6, S5: f64 = -2.50507602534068634195e-8, S6: f64 = 1.58969099521155010221e-10;
const C1: f64 = 4.16666666666666019037e-2, C2: f64 = -1.38888888888741095749e-3, C3: f64 = 2.48015872894767294178e-5;
const C4: f64 = -2.75573143513906633035e-7, C5: f64 = 2.08757232129817482790e-9, C6: f64 = -1.13596475577881948265e-11;

/** sin(x + y) for |x| ≤ ~π/4, y the tail of x (fdlibm's __kernel_sin with a tail). */
@inline function kernelSin(x: f64, y: f64): f64 {
  if ((highWord(x) & 0x7fffffff) < 0x3e400000) return x;
  const z = x * x;
  const v = z * x;
  const r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  return x - ((z * (0.5 * y - v * r) - y) - v * S1);
}

/** sin(x) for |x| ≤ ~π/4 with no tail (kernelSin without a tail). */
@inline function kernelSin0(x: f64): f64 {
  if ((highWord(x) & 0x7fffffff) < 0x3e400000) return x;
  const z = x * x;
  const v = z * x;
  const r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  return x + v * (S1 + z * r);
}

/** cos(x + y) for |x| ≤ ~π/4, y the tail of x (fdlibm's __kernel_cos). */
@inline function kernelCos(x: f64, y: f64): f64 {
  const ix = highWord(x) & 0x7fffffff;
  if (ix < 0x3e400000) return 1.0;
  const z = x * x;
  const r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
  if (ix < 0x3fd33333) return 1.0 - (0.5 * z - (z * r - x * y));
  const qx = ix > 0x3fe90000 ? 0.28125 : reinterpret<f64>(<u64>(ix - 0x00200000) << 32);
  return (1.0 - qx) - ((0.5 * z - qx) - (z * r - x * y));
}

const INVPIO2: f64 = 6.36619772367581382433e-1;
const PIO2_1: f64 = 1.57079632673412561417, PIO2_1T: f64 = 6.07710050650619224932e-11;
const PIO2_2: f64 = 6.07710050630396597660e-11, PIO2_2T: f64 = 2.02226624879595063154e-21;
const PIO2_3: f64 = 2.02226624871116645580e-21, PIO2_3T: f64 = 8.47842766036889956997e-32;

/** High word of n·π/2 for n = 2..4 (a switch keeps the module free of static data). */
@inline function npio2hw(n: i32): i32 {
  return n == 2 ? 0x400921fb : n == 3 ? 0x4012d97c : 0x401921fb;
}

/**
 * One Box–Muller pair from the draws t1, t2 (fdlibm's branches one for one): returns r·cos θ and leaves
 * r·sin θ at state + ST_SPARE (the spare's slot, also the scratch of the SIMD path's rare lanes).
 */
function gaussPair(t1: u32, t2: u32, state: usize): f64 {
  const r = Math.sqrt(-2 * logUnit(1 - <f64>t1 * INV32));
  // theta = 2π·t2/2³² ∈ [0, 2π) = q·π/2 + (y0 + y1), |y0 + y1| ≤ ~π/4.
  const x = TAU * <f64>t2 * INV32;
  const ix = highWord(x);
  let sn: f64, cs: f64;
  if (ix <= 0x3fe921fb) {
    sn = kernelSin0(x);
    cs = kernelCos(x, 0);
  } else {
    let q: i32, y0: f64, y1: f64;
    if (ix < 0x4002d97c) {
      q = 1;
      let z = x - PIO2_1;
      if (ix != 0x3ff921fb) {
        y0 = z - PIO2_1T;
        y1 = (z - y0) - PIO2_1T;
      } else {
        z -= PIO2_2;
        y0 = z - PIO2_2T;
        y1 = (z - y0) - PIO2_2T;
      }
    } else {
      q = <i32>(x * INVPIO2 + 0.5);
      const fq = <f64>q;
      let rr = x - fq * PIO2_1;
      let w = fq * PIO2_1T;
      y0 = rr - w;
      if (ix == npio2hw(q)) {
        const j = ix >> 20;
        if (j - ((highWord(y0) >> 20) & 0x7ff) > 16) {
          let tt = rr;
          w = fq * PIO2_2;
          rr = tt - w;
          w = fq * PIO2_2T - ((tt - rr) - w);
          y0 = rr - w;
          if (j - ((highWord(y0) >> 20) & 0x7ff) > 49) {
            tt = rr;
            w = fq * PIO2_3;
            rr = tt - w;
            w = fq * PIO2_3T - ((tt - rr) - w);
            y0 = rr - w;
          }
        }
      }
      y1 = (rr - y0) - w;
    }
    const ks = kernelSin(y0, y1), kc = kernelCos(y0, y1);
    switch (q & 3) {
      case 0: sn = ks; cs = kc; break;
      case 1: sn = kc; cs = -ks; break;
      case 2: sn = -ks; cs = -kc; break;
      default: sn = -kc; cs = ks;
    }
  }
  store<f64>(state, r * sn, ST_SPARE);
  return r * cs;
}

@inline function f64s(x: f64): v128 {
  return f64x2.splat(x);
}
@inline function i64s(x: i64): v128 {
  return i64x2.splat(x);
}
/** The high words of both lanes (i64 lanes; x ≥ 0, so no sign bit). */
@inline function highWords(x: v128): v128 {
  return i64x2.shr_u(x, 32);
}
/** c + z·p, lane by lane (a Horner step). */
@inline function cz(c: f64, z: v128, p: v128): v128 {
  return f64x2.add(f64s(c), f64x2.mul(z, p));
}
/** Lanes of a where mask is set, else of b. */
@inline function pick(mask: v128, a: v128, b: v128): v128 {
  return v128.bitselect(a, b, mask);
}

/**
 * Two pairs at once, in f64x2 lanes: the same IEEE operations as gaussPair for each lane (wasm's f64x2
 * add, sub, mul, div and sqrt round each lane exactly as the scalar ones do), with both sides of every
 * branch computed and selected. The rare inputs where gaussPair takes a different road (log of 1 - u
 * within 2⁻²⁰ of a power of two, θ's high word equal to one of n·π/2, a kernel argument below 2⁻²⁷)
 * make it return false, and the caller runs gaussPair on both pairs instead. Writes y[0..4) =
 * mean + std·(r₁cos θ₁, r₁sin θ₁, r₂cos θ₂, r₂sin θ₂).
 */
@inline function gaussPairs2(t1a: u32, t2a: u32, t1b: u32, t2b: u32, y: usize, mean: f64, std: f64): bool {
  const one = f64s(1.0);
  // ln(1 - u) (logUnit).
  const u = f64x2.mul(f64x2.replace_lane(f64s(<f64>t1a), 1, <f64>t1b), f64s(INV32));
  const xl = f64x2.sub(one, u);
  const hx0 = highWords(xl);
  const hx = v128.and(hx0, i64s(0x000fffff));
  const i = v128.and(i64x2.add(hx, i64s(0x95f64)), i64s(0x100000));
  const xn = v128.or(i64x2.shl(v128.or(hx, v128.xor(i, i64s(0x3ff00000))), 32), v128.and(xl, i64s(0xffffffff)));
  const k = i64x2.add(i64x2.sub(i64x2.shr_u(hx0, 20), i64s(1023)), i64x2.shr_u(i, 20));
  if (v128.any_true(i64x2.lt_s(v128.and(i64x2.add(hx, i64s(2)), i64s(0x000fffff)), i64s(3)))) return false;
  const f = f64x2.sub(xn, one);
  const dk = f64x2.convert_low_i32x4_s(i32x4.shuffle(k, k, 0, 2, 0, 2));
  const s = f64x2.div(f, f64x2.add(f64s(2.0), f));
  const z = f64x2.mul(s, s);
  const w = f64x2.mul(z, z);
  const t1 = f64x2.mul(w, cz(LG2, w, cz(LG4, w, f64s(LG6))));
  const t2 = f64x2.mul(z, cz(LG1, w, cz(LG3, w, cz(LG5, w, f64s(LG7)))));
  const R = f64x2.add(t2, t1);
  const far = i64x2.gt_s(v128.or(i64x2.sub(hx, i64s(0x6147a)), i64x2.sub(i64s(0x6b851), hx)), i64s(0));
  const k0 = i64x2.eq(k, i64s(0));
  const hfsq = f64x2.mul(f64x2.mul(f64s(0.5), f), f);
  const khi = f64x2.mul(dk, f64s(LN2_HI)), klo = f64x2.mul(dk, f64s(LN2_LO));
  const sHR = f64x2.mul(s, f64x2.add(hfsq, R)); // s·(hfsq + R)
  const sFR = f64x2.mul(s, f64x2.sub(f, R)); // s·(f - R)
  const farK0 = f64x2.sub(f, f64x2.sub(hfsq, sHR));
  const farK = f64x2.sub(khi, f64x2.sub(f64x2.sub(hfsq, f64x2.add(sHR, klo)), f));
  const nearK0 = f64x2.sub(f, sFR);
  const nearK = f64x2.sub(khi, f64x2.sub(f64x2.sub(sFR, klo), f));
  const lg = pick(far, pick(k0, farK0, farK), pick(k0, nearK0, nearK));
  const r = f64x2.sqrt(f64x2.mul(f64s(-2.0), lg));

  // sin θ and cos θ (sinCos). One reduction formula serves every lane: q = 0 gives y0 = x, y1 = 0 and
  // q = 1 gives the 3π/4 case's y0, y1, both exactly. The cases where sinCos refines the reduction
  // (x's high word that of n·π/2) or a kernel returns its argument (below 2⁻²⁷) are left to gaussPair.
  const x = f64x2.mul(f64x2.mul(f64s(TAU), f64x2.replace_lane(f64s(<f64>t2a), 1, <f64>t2b)), f64s(INV32));
  const ix = highWords(x);
  if (v128.any_true(v128.or(v128.or(i64x2.eq(ix, i64s(0x3ff921fb)), i64x2.eq(ix, i64s(0x400921fb))),
    v128.or(i64x2.eq(ix, i64s(0x4012d97c)), i64x2.eq(ix, i64s(0x401921fb)))))) return false;
  // (fdlibm reduces nothing up to the high word of π/4, a little above π/4, where this rounds to 1.)
  const reduced = i64x2.gt_s(ix, i64s(0x3fe921fb));
  const qi = v128.and(i32x4.trunc_sat_f64x2_s_zero(f64x2.add(f64x2.mul(x, f64s(INVPIO2)), f64s(0.5))), i32x4.shuffle(reduced, reduced, 0, 2, 4, 6));
  const fq = f64x2.convert_low_i32x4_s(qi);
  const q = i64x2.extend_low_i32x4_s(qi);
  const rr = f64x2.sub(x, f64x2.mul(fq, f64s(PIO2_1)));
  const ww = f64x2.mul(fq, f64s(PIO2_1T));
  const y0 = f64x2.sub(rr, ww);
  const y1 = f64x2.sub(f64x2.sub(rr, y0), ww);
  const iy = v128.and(highWords(y0), i64s(0x7fffffff));
  if (v128.any_true(i64x2.lt_s(iy, i64s(0x3e400000)))) return false;
  const zz = f64x2.mul(y0, y0);
  // kernelSin, with the tail (q ≥ 1) and without (q = 0, y1 = 0)
  const v = f64x2.mul(zz, y0);
  const rs = cz(S2, zz, cz(S3, zz, cz(S4, zz, cz(S5, zz, f64s(S6)))));
  const sinTail = f64x2.sub(y0, f64x2.sub(f64x2.sub(f64x2.mul(zz, f64x2.sub(f64x2.mul(f64s(0.5), y1), f64x2.mul(v, rs))), y1), f64x2.mul(v, f64s(S1))));
  const sinNoTail = f64x2.add(y0, f64x2.mul(v, f64x2.add(f64s(S1), f64x2.mul(zz, rs))));
  const ks = pick(i64x2.eq(q, i64s(0)), sinNoTail, sinTail);
  // kernelCos
  const rc = f64x2.mul(zz, cz(C1, zz, cz(C2, zz, cz(C3, zz, cz(C4, zz, cz(C5, zz, f64s(C6)))))));
  const hz = f64x2.mul(f64s(0.5), zz);
  const zrxy = f64x2.sub(f64x2.mul(zz, rc), f64x2.mul(y0, y1));
  const qx = pick(i64x2.gt_s(iy, i64s(0x3fe90000)), f64s(0.28125), i64x2.shl(i64x2.sub(iy, i64s(0x00200000)), 32));
  const kc = pick(i64x2.lt_s(iy, i64s(0x3fd33333)),
    f64x2.sub(one, f64x2.sub(hz, zrxy)),
    f64x2.sub(f64x2.sub(one, qx), f64x2.sub(f64x2.sub(hz, qx), zrxy)));
  // quadrant: sin = ks, kc, -ks, -kc and cos = kc, -ks, -kc, ks for q & 3 = 0, 1, 2, 3
  const odd = i64x2.eq(v128.and(q, i64s(1)), i64s(1));
  const sign = i64s(0x8000000000000000);
  const sinv = v128.xor(pick(odd, kc, ks), v128.and(i64x2.shl(q, 62), sign));
  const cosv = v128.xor(pick(odd, ks, kc), v128.and(i64x2.shl(i64x2.add(q, i64s(1)), 62), sign));

  const m = f64s(mean), sd = f64s(std);
  const c = f32x4.demote_f64x2_zero(f64x2.add(m, f64x2.mul(sd, f64x2.mul(r, cosv))));
  const sn = f32x4.demote_f64x2_zero(f64x2.add(m, f64x2.mul(sd, f64x2.mul(r, sinv))));
  v128.store(y, i32x4.shuffle(c, sn, 0, 4, 1, 5));
  return true;
}

/**
 * y[0..n) = mean + std·N(0, 1), continuing the generator whose state is at `state` (layout above) exactly
 * as Rng.fillNormal would, and leaving the state there as fillNormal leaves it: a pending spare is used
 * first; then one Box–Muller pair per two outputs (two pairs per step in f64x2 lanes, the rare lanes
 * and the last pairs by gaussPair); an odd last output keeps the pair's second value as the new spare.
 */
export function f32_fill_normal(n: i32, y: usize, state: usize, mean: f64, std: f64): void {
  if (n <= 0) return;
  let a = load<u32>(state), b = load<u32>(state, 4), c = load<u32>(state, 8), d = load<u32>(state, 12);
  let i = 0;
  if (load<u32>(state, ST_HAS_SPARE) != 0) {
    store<f32>(y, <f32>(mean + std * load<f64>(state, ST_SPARE)));
    store<u32>(state, 0, ST_HAS_SPARE);
    i = 1;
  }
  // sfc32 (random.ts): t = a + b + d; d += 1; a = b ^ (b >>> 9); b = c + (c << 3); c = rotl(c, 21) + t.
  for (; i + 3 < n; i += 4) {
    const t1a = a + b + d; d += 1; a = b ^ (b >> 9); b = c + (c << 3); c = rotl<u32>(c, 21) + t1a;
    const t2a = a + b + d; d += 1; a = b ^ (b >> 9); b = c + (c << 3); c = rotl<u32>(c, 21) + t2a;
    const t1b = a + b + d; d += 1; a = b ^ (b >> 9); b = c + (c << 3); c = rotl<u32>(c, 21) + t1b;
    const t2b = a + b + d; d += 1; a = b ^ (b >> 9); b = c + (c << 3); c = rotl<u32>(c, 21) + t2b;
    const p = y + (<usize>i << 2);
    if (!gaussPairs2(t1a, t2a, t1b, t2b, p, mean, std)) {
      store<f32>(p, <f32>(mean + std * gaussPair(t1a, t2a, state)));
      store<f32>(p, <f32>(mean + std * load<f64>(state, ST_SPARE)), 4);
      store<f32>(p, <f32>(mean + std * gaussPair(t1b, t2b, state)), 8);
      store<f32>(p, <f32>(mean + std * load<f64>(state, ST_SPARE)), 12);
    }
  }
  for (; i < n; i += 2) {
    const t1 = a + b + d; d += 1; a = b ^ (b >> 9); b = c + (c << 3); c = rotl<u32>(c, 21) + t1;
    const t2 = a + b + d; d += 1; a = b ^ (b >> 9); b = c + (c << 3); c = rotl<u32>(c, 21) + t2;
    const p = y + (<usize>i << 2);
    store<f32>(p, <f32>(mean + std * gaussPair(t1, t2, state)));
    if (i + 1 < n) store<f32>(p, <f32>(mean + std * load<f64>(state, ST_SPARE)), 4);
    else store<u32>(state, 1, ST_HAS_SPARE); // the spare gaussPair left is the stream's spare
  }
  store<u32>(state, a);
  store<u32>(state, b, 4);
  store<u32>(state, c, 8);
  store<u32>(state, d, 12);
}
