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

// ---- two pairs at once, in f64x2 lanes -----------------------------------------------------------------
//
// The same IEEE operations as gaussPair for each lane (wasm's f64x2 add, sub, mul, div, sqrt and floor round
// each lane exactly as the scalar ones do), both sides of every branch computed and selected. The rare
// inputs where gaussPair takes a road of its own make the step fall back to gaussPair for both pairs.
//
// Speed notes (V8 on x64, read from --print-wasm-code): the loop is ~300 instructions for four values.
// - A non-zero v128.const is rebuilt at every use inside a loop (movq, vmovq, vpunpcklqdq, or pcmpeqd and
//   shifts): ~50 constants here. They are read from the tables below once per call, into locals before the
//   loop; what does not fit in registers is reloaded from a spill slot, one load at its use. Read at their
//   uses instead (load64_splat in the loop), binaryen shares the repeated loads and TurboFan schedules them
//   early, so each was loaded, spilled and reloaded.
// - One rare-lane test per step, after the store: tested early, binaryen moved the arithmetic behind the
//   branch but not the constant loads.
// - Four pairs per step (two sets of lanes) ran slower: more spills, with only 16 xmm registers.

const D_INV32 = 0, D_ONE = 1, D_TWO = 2, D_HALF = 3, D_M2 = 4, D_LG1 = 5, D_LG2 = 6, D_LG3 = 7, D_LG4 = 8;
const D_LG5 = 9, D_LG6 = 10, D_LG7 = 11, D_LN2_HI = 12, D_LN2_LO = 13, D_TAU = 14, D_INVPIO2 = 15;
const D_PIO2_1 = 16, D_PIO2_1T = 17, D_S1 = 18, D_S2 = 19, D_S3 = 20, D_S4 = 21, D_S5 = 22, D_S6 = 23;
const D_C1 = 24, D_C2 = 25, D_C3 = 26, D_C4 = 27, D_C5 = 28, D_C6 = 29, D_QX = 30, D_TWO52 = 31;
// float64 constants (the values of the scalar constants above, in this order). Read-only data, the same
// bytes in every instance; @lazy keeps them out of modules that do not read them.
// @ts-ignore: decorator
@lazy const KD = memory.data<f64>([
  2.3283064365386962890625e-10, 1.0, 2.0, 0.5, -2.0,
  6.666666666666735130e-1, 3.999999999940941908e-1, 2.857142874366239149e-1, 2.222219843214978396e-1,
  1.818357216161805012e-1, 1.531383769920937332e-1, 1.479819860511658591e-1,
  6.93147180369123816490e-1, 1.90821492927058770002e-10, 6.283185307179586, 6.36619772367581382433e-1,
  1.57079632673412561417, 6.07710050650619224932e-11,
  -1.66666666666666324348e-1, 8.33333333332248946124e-3, -1.98412698298579493134e-4,
  2.75573137070700676789e-6, -2.50507602534068634195e-8, 1.58969099521155010221e-10,
  4.16666666666666019037e-2, -1.38888888888741095749e-3, 2.48015872894767294178e-5,
  -2.75573143513906633035e-7, 2.08757232129817482790e-9, -1.13596475577881948265e-11,
  0.28125, 4503599627370496.0, // 2⁵²
], 16);
const Q_MANT = 0, Q_95F64 = 1, Q_BIT20 = 2, Q_ONE_HW = 3, Q_LO32 = 4, Q_1023 = 5, Q_2 = 6, Q_3 = 7;
const Q_6147A = 8, Q_6B851 = 9, Q_PIO4_HW = 10, Q_ABS_HW = 11, Q_RARE_HW = 12, Q_3FE9 = 13, Q_2000 = 14;
const Q_3FD3 = 15, Q_1 = 16, Q_SIGN = 17;
// 64-bit integer constants (bit masks, high words).
// @ts-ignore: decorator
@lazy const KQ = memory.data<u64>([
  0x000fffff, 0x95f64, 0x100000, 0x3ff00000, 0xffffffff, 1023, 2, 3,
  0x6147a, 0x6b851, 0x3fe921fb, 0x7fffffff, 0x3ee00000, 0x3fe90000, 0x00200000,
  0x3fd33333, 1, 0x8000000000000000,
], 16);

/** A float64 constant of KD in both lanes. */
@inline function kd(i: i32): v128 {
  return v128.load64_splat(KD + (<usize>i << 3));
}
/** A 64-bit integer constant of KQ in both lanes. */
@inline function kq(i: i32): v128 {
  return v128.load64_splat(KQ + (<usize>i << 3));
}
/** The high words of both lanes (i64 lanes; x ≥ 0, so no sign bit). */
@inline function highWords(x: v128): v128 {
  return i64x2.shr_u(x, 32);
}
/** c + z·p, lane by lane (a Horner step). */
@inline function cz(c: v128, z: v128, p: v128): v128 {
  return f64x2.add(c, f64x2.mul(z, p));
}
/** Lanes of a where mask is set, else of b. */
@inline function pick(mask: v128, a: v128, b: v128): v128 {
  return v128.bitselect(a, b, mask);
}

/** y[0..4) = mean + std·(the pairs of draws t1a, t2a and t1b, t2b by gaussPair): the rare lanes' step. */
@noinline function gaussPairsScalar(t1a: u32, t2a: u32, t1b: u32, t2b: u32, y: usize, state: usize, mean: f64, std: f64): void {
  store<f32>(y, <f32>(mean + std * gaussPair(t1a, t2a, state)));
  store<f32>(y, <f32>(mean + std * load<f64>(state, ST_SPARE)), 4);
  store<f32>(y, <f32>(mean + std * gaussPair(t1b, t2b, state)), 8);
  store<f32>(y, <f32>(mean + std * load<f64>(state, ST_SPARE)), 12);
}

/**
 * The two-pair steps of f32_fill_normal: y[i..i + 4k) for i ≤ n - 4, the generator's sfc32 words read from
 * and written back to `state`. A function of its own, so that V8's optimising compiler, which runs on the
 * caller's time at start-up where cores are few, compiles only this loop.
 */
@noinline function fillSteps(i: i32, n: i32, y: usize, state: usize, mean: f64, std: f64): i32 {
  let a = load<u32>(state), b = load<u32>(state, 4), c = load<u32>(state, 8), d = load<u32>(state, 12);
  const m = f64x2.splat(mean), sd = f64x2.splat(std);
  const inv32 = kd(D_INV32), one = kd(D_ONE), two = kd(D_TWO), half = kd(D_HALF), m2 = kd(D_M2);
  const lg1 = kd(D_LG1), lg2 = kd(D_LG2), lg3 = kd(D_LG3), lg4 = kd(D_LG4), lg5 = kd(D_LG5), lg6 = kd(D_LG6), lg7 = kd(D_LG7);
  const ln2Hi = kd(D_LN2_HI), ln2Lo = kd(D_LN2_LO), tau = kd(D_TAU), invPio2 = kd(D_INVPIO2);
  const pio2_1 = kd(D_PIO2_1), pio2_1t = kd(D_PIO2_1T), qx28125 = kd(D_QX), two52 = kd(D_TWO52);
  const s1 = kd(D_S1), s2 = kd(D_S2), s3 = kd(D_S3), s4 = kd(D_S4), s5 = kd(D_S5), s6 = kd(D_S6);
  const c1 = kd(D_C1), c2 = kd(D_C2), c3 = kd(D_C3), c4 = kd(D_C4), c5 = kd(D_C5), c6 = kd(D_C6);
  const mant = kq(Q_MANT), k95f64 = kq(Q_95F64), bit20 = kq(Q_BIT20), oneHw = kq(Q_ONE_HW), lo32 = kq(Q_LO32);
  const k1023 = kq(Q_1023), i2 = kq(Q_2), i3 = kq(Q_3), k6147a = kq(Q_6147A), k6b851 = kq(Q_6B851);
  const pio4Hw = kq(Q_PIO4_HW), absHw = kq(Q_ABS_HW), rareHw = kq(Q_RARE_HW), k3fe9 = kq(Q_3FE9);
  const k2000 = kq(Q_2000), k3fd3 = kq(Q_3FD3), i1 = kq(Q_1), sign = kq(Q_SIGN), zero = i64x2.splat(0);
  // sfc32 (random.ts): t = a + b + d; d += 1; a = b ^ (b >>> 9); b = c + (c << 3); c = rotl(c, 21) + t.
  for (; i + 3 < n; i += 4) {
    const t1a = a + b + d; d += 1; a = b ^ (b >> 9); b = c + (c << 3); c = rotl<u32>(c, 21) + t1a;
    const t2a = a + b + d; d += 1; a = b ^ (b >> 9); b = c + (c << 3); c = rotl<u32>(c, 21) + t2a;
    const t1b = a + b + d; d += 1; a = b ^ (b >> 9); b = c + (c << 3); c = rotl<u32>(c, 21) + t1b;
    const t2b = a + b + d; d += 1; a = b ^ (b >> 9); b = c + (c << 3); c = rotl<u32>(c, 21) + t2b;

    // r = √(−2 ln(1 − u)) (logUnit). Rare: 1 - u within 2⁻²⁰ of a power of two (logUnit's f ≈ 0 branch).
    const xl = f64x2.sub(one, f64x2.mul(f64x2.replace_lane(f64x2.splat(<f64>t1a), 1, <f64>t1b), inv32));
    const hx0 = highWords(xl);
    const hx = v128.and(hx0, mant);
    const j = v128.and(i64x2.add(hx, k95f64), bit20);
    const xn = v128.or(i64x2.shl(v128.or(hx, v128.xor(j, oneHw)), 32), v128.and(xl, lo32));
    const k = i64x2.add(i64x2.sub(i64x2.shr_u(hx0, 20), k1023), i64x2.shr_u(j, 20));
    const rareLog = i64x2.lt_s(v128.and(i64x2.add(hx, i2), mant), i3);
    const f = f64x2.sub(xn, one);
    const dk = f64x2.convert_low_i32x4_s(i32x4.shuffle(k, k, 0, 2, 0, 2));
    const s = f64x2.div(f, f64x2.add(two, f));
    const z = f64x2.mul(s, s);
    const w = f64x2.mul(z, z);
    const R = f64x2.add(f64x2.mul(z, cz(lg1, w, cz(lg3, w, cz(lg5, w, lg7)))), f64x2.mul(w, cz(lg2, w, cz(lg4, w, lg6))));
    const far = i64x2.gt_s(v128.or(i64x2.sub(hx, k6147a), i64x2.sub(k6b851, hx)), zero);
    const hfsq = f64x2.mul(f64x2.mul(half, f), f);
    const khi = f64x2.mul(dk, ln2Hi), klo = f64x2.mul(dk, ln2Lo);
    const sHR = f64x2.mul(s, f64x2.add(hfsq, R)); // s·(hfsq + R)
    const sFR = f64x2.mul(s, f64x2.sub(f, R)); // s·(f - R)
    // logUnit's k = 0 forms need no lanes of their own: there khi = klo = +0, sHR ≠ 0 (s ≠ 0, hfsq + R > 0)
    // and 0 - (e - f) = f - e exactly (+0 when e = f, as f - e), so the k ≠ 0 forms give their bits.
    const farK = f64x2.sub(khi, f64x2.sub(f64x2.sub(hfsq, f64x2.add(sHR, klo)), f));
    const nearK = f64x2.sub(khi, f64x2.sub(f64x2.sub(sFR, klo), f));
    const r = f64x2.sqrt(f64x2.mul(m2, pick(far, farK, nearK)));

    // sin θ and cos θ (sinCos). One reduction formula serves every lane: q = 0 gives y0 = x, y1 = 0 and
    // q = 1 gives the 3π/4 case's y0, y1, both exactly. fdlibm reduces nothing up to the high word of
    // π/4 (a little above π/4, where q rounds to 1), and q = ⌊x·2/π + ½⌋ (sinCos truncates: the same for
    // this positive value) is kept as a float64, its bits read from q + 2⁵², whose low mantissa bits hold q.
    const x = f64x2.mul(f64x2.mul(tau, f64x2.replace_lane(f64x2.splat(<f64>t2a), 1, <f64>t2b)), inv32);
    const fq = v128.and(f64x2.floor(f64x2.add(f64x2.mul(x, invPio2), half)), i64x2.gt_s(highWords(x), pio4Hw));
    const q = f64x2.add(fq, two52);
    const rr = f64x2.sub(x, f64x2.mul(fq, pio2_1));
    const ww = f64x2.mul(fq, pio2_1t);
    const y0 = f64x2.sub(rr, ww);
    const y1 = f64x2.sub(f64x2.sub(rr, y0), ww);
    const iy = v128.and(highWords(y0), absHw);
    // Rare: |y0| < 2⁻¹⁷. That takes in the kernels' tiny arguments (below 2⁻²⁷) and every x whose high word
    // is that of n·π/2 (|x - n·π/2| < 2⁻¹⁸ for x < 8), where sinCos refines the reduction.
    const rareRed = i64x2.lt_s(iy, rareHw);
    const zz = f64x2.mul(y0, y0);
    // kernelSin, with the tail (q ≥ 1) and without (q = 0, y1 = 0)
    const v = f64x2.mul(zz, y0);
    const rs = cz(s2, zz, cz(s3, zz, cz(s4, zz, cz(s5, zz, s6))));
    const sinTail = f64x2.sub(y0, f64x2.sub(f64x2.sub(f64x2.mul(zz, f64x2.sub(f64x2.mul(half, y1), f64x2.mul(v, rs))), y1), f64x2.mul(v, s1)));
    const sinNoTail = f64x2.add(y0, f64x2.mul(v, f64x2.add(s1, f64x2.mul(zz, rs))));
    const ks = pick(i64x2.eq(fq, zero), sinNoTail, sinTail);
    // kernelCos
    const rc = f64x2.mul(zz, cz(c1, zz, cz(c2, zz, cz(c3, zz, cz(c4, zz, cz(c5, zz, c6))))));
    const hz = f64x2.mul(half, zz);
    const zrxy = f64x2.sub(f64x2.mul(zz, rc), f64x2.mul(y0, y1));
    const qx = pick(i64x2.gt_s(iy, k3fe9), qx28125, i64x2.shl(i64x2.sub(iy, k2000), 32));
    const kc = pick(i64x2.lt_s(iy, k3fd3),
      f64x2.sub(one, f64x2.sub(hz, zrxy)),
      f64x2.sub(f64x2.sub(one, qx), f64x2.sub(f64x2.sub(hz, qx), zrxy)));
    // quadrant: sin = ks, kc, -ks, -kc and cos = kc, -ks, -kc, ks for q & 3 = 0, 1, 2, 3 (odd q swaps them)
    const swap = v128.and(v128.xor(ks, kc), i64x2.eq(v128.and(q, i1), i1));
    const sinv = v128.xor(v128.xor(ks, swap), v128.and(i64x2.shl(q, 62), sign));
    const cosv = v128.xor(v128.xor(kc, swap), v128.and(i64x2.shl(i64x2.add(q, i1), 62), sign));

    const p = y + (<usize>i << 2);
    const cv = f32x4.demote_f64x2_zero(f64x2.add(m, f64x2.mul(sd, f64x2.mul(r, cosv))));
    const sv = f32x4.demote_f64x2_zero(f64x2.add(m, f64x2.mul(sd, f64x2.mul(r, sinv))));
    v128.store(p, i32x4.shuffle(cv, sv, 0, 4, 1, 5));
    if (v128.any_true(v128.or(rareLog, rareRed))) gaussPairsScalar(t1a, t2a, t1b, t2b, p, state, mean, std);
  }
  store<u32>(state, a);
  store<u32>(state, b, 4);
  store<u32>(state, c, 8);
  store<u32>(state, d, 12);
  return i;
}

/**
 * y[0..n) = mean + std·N(0, 1), continuing the generator whose state is at `state` (layout above) exactly
 * as Rng.fillNormal would, and leaving the state there as fillNormal leaves it: a pending spare is used
 * first; then one Box–Muller pair per two outputs (two pairs per step in f64x2 lanes, the rare lanes
 * and the last pairs by gaussPair); an odd last output keeps the pair's second value as the new spare.
 */
export function f32_fill_normal(n: i32, y: usize, state: usize, mean: f64, std: f64): void {
  if (n <= 0) return;
  let i = 0;
  if (load<u32>(state, ST_HAS_SPARE) != 0) {
    store<f32>(y, <f32>(mean + std * load<f64>(state, ST_SPARE)));
    store<u32>(state, 0, ST_HAS_SPARE);
    i = 1;
  }
  if (i + 3 < n) i = fillSteps(i, n, y, state, mean, std);
  let a = load<u32>(state), b = load<u32>(state, 4), c = load<u32>(state, 8), d = load<u32>(state, 12);
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
