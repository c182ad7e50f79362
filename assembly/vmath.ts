// Vectorised float32 math for the kernels: four lanes at once, no state.
//
// Every helper is @inline so it is specialised into the loop that calls it. Polynomials are evaluated with
// plain mul+add (never relaxed_madd): the simd and relaxed builds then give bit-identical results, which the
// "same numbers everywhere" rule wants. Range reductions follow Cephes (expf, logf, tanhf); the error
// bounds quoted are what the scratch conformance run measured against float64, rounded once.
//
// Edge behaviour (the conformance suite relies on it): exp overflows to +Inf and underflows through the
// subnormals to +0; log(0) = -Inf, log(<0) = NaN, log(+Inf) = +Inf; sigmoid and tanh saturate to exactly
// 0/1/±1 at ±Inf; NaN in, NaN out everywhere.
//
// Speed notes (V8 on x64, read from --print-wasm-code):
// - A non-zero v128.const costs three instructions (movq r, imm64; vmovq; vpunpcklqdq) at every use inside a
//   loop. The constants therefore live in one read-only data table and are broadcast from it
//   (v128.load32_splat → one vbroadcastss load): about 2x faster exp. The table is a data segment, written
//   with the same bytes by every instance, never modified.
// - f32x4.min/max (NaN-propagating, -0 < +0) cost ~8 instructions; pmin/pmax are one (minps/maxps). Clamps
//   use pmax(x, lo)/pmin(x, hi), which also pass NaN through (a NaN x compares false and is kept).
// - Rounding to an integer and converting it: adding 1.5·2^23 rounds to nearest-even and leaves the integer
//   in the low mantissa bits, replacing nearest + trunc_sat (the latter is ~5 instructions).
// ---- constant tables --------------------------------------------------------------------------------------

// Indices into KF (float32 constants).
export const K_ONE: i32 = 0;
export const K_HALF: i32 = 1;
export const K_INF: i32 = 2;
export const K_NEG_INF: i32 = 3;
export const K_NAN: i32 = 4;
export const K_TWO: i32 = 5;
const K_EXP_LO = 6; // below: e^x < 2^-150 rounds to 0
const K_EXP_HI = 7; // above: e^x overflows
const K_LOG2E = 8;
const K_MAGIC = 9; // 1.5·2^23
const K_LN2_HI = 10; // ln2 split so that n·LN2_HI is exact for |n| < 2^15 (9 significant bits)
const K_LN2_LO = 11;
const K_EXP_P0 = 12; // Cephes expf: e^r - 1 - r = r²·P(r) on |r| <= ln2/2
const K_EXP_P1 = 13;
const K_EXP_P2 = 14;
const K_EXP_P3 = 15;
const K_EXP_P4 = 16;
const K_EXP_P5 = 17;
const K_FLT_MIN = 18;
const K_TWO23 = 19;
const K_SQRT_HALF = 20;
const K_LOG_P0 = 21; // Cephes logf on [sqrt(1/2) - 1, sqrt(2) - 1]
const K_LOG_P1 = 22;
const K_LOG_P2 = 23;
const K_LOG_P3 = 24;
const K_LOG_P4 = 25;
const K_LOG_P5 = 26;
const K_LOG_P6 = 27;
const K_LOG_P7 = 28;
const K_LOG_P8 = 29;
const K_TANH_P0 = 30; // Cephes tanhf for |x| < 0.625
const K_TANH_P1 = 31;
const K_TANH_P2 = 32;
const K_TANH_P3 = 33;
const K_TANH_P4 = 34;
const K_TANH_SMALL = 35;
const K_M30 = 36;
const K_P30 = 37;
const K_EXP_OVF = 38;
// Numerical Recipes erfcc: erfc(z) = t·exp(-z² + P(t)), t = 1/(1 + z/2), relative error < 1.2e-7 for z >= 0.
const K_ERFC_C0 = 39;
const K_ERFC_C1 = 40;
const K_ERFC_C2 = 41;
const K_ERFC_C3 = 42;
const K_ERFC_C4 = 43;
const K_ERFC_C5 = 44;
const K_ERFC_C6 = 45;
const K_ERFC_C7 = 46;
const K_ERFC_C8 = 47;
const K_ERFC_C9 = 48;
const K_LOG_INV_SQRT_2PI = 49; // log(1/sqrt(2π)), folded into the exponent of the normal density
// Φ(x) - 1/2 = x·S(x²) for |x| <= 1 (least-squares fit, relative error 1e-11 before float32 rounding). Near
// 0 the erfc form loses ~6 ulp to cancellation in its exponent polynomial; this keeps gelu ~2 ulp there.
const K_PHI_S0 = 50;
const K_PHI_S1 = 51;
const K_PHI_S2 = 52;
const K_PHI_S3 = 53;
const K_PHI_S4 = 54;
const K_PHI_S5 = 55;
const K_PHI_S6 = 56;
const K_TWO_M24 = 57;
const K_M_HALF = 58;
const K_EXP_LO_HILO = 59;

// Lazy: the table is emitted only into a module whose code reads it (not the relaxed-gemm module).
// @ts-ignore: decorator
@lazy const KF = memory.data<f32>([
  1.0, 0.5, Infinity, -Infinity, NaN, 2.0,
  -104.0, 89.0, 1.44269504088896341, 12582912.0, 0.693359375, -2.12194440e-4,
  1.9875691500e-4, 1.3981999507e-3, 8.3333519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1,
  1.17549435e-38, 8388608.0, 0.707106781186547524,
  7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
  -5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1, 0.625,
  -30.0, 30.0, 88.72283935546875,
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
  -0.82215223, 0.17087277,
  -0.91893853320467274,
  0.3989422917366028, -0.06649038195610046, 0.009973550215363503, -0.001187287736684084,
  0.00011531892232596874, -9.272786883229855e-6, 5.367288622437627e-7,
  5.9604644775390625e-8, -0.5, -104.0,
], 16);

// Indices into KI (int32 constants).
export const KI_SIGN: i32 = 0;
const KI_ABS = 1;
const KI_EXP_BIAS = 2; // 127 - bits(1.5·2^23): bits(t) + this = k + 127 for t = k + 1.5·2^23
const KI_127 = 3;
const KI_MANT = 4;
const KI_HALF_EXP = 5;
const KI_126 = 6;
const KI_23 = 7;
const KI_SPLIT = 8;
const KI_24 = 9;

// Lazy: the table is emitted only into a module whose code reads it (not the relaxed-gemm module).
// @ts-ignore: decorator
@lazy const KI = memory.data<i32>([
  0x80000000, 0x7fffffff, 127 - 0x4b400000, 127, 0x007fffff, 0x3f000000, 126, 23, 0xfffff000, 24,
], 16);

/** A float32 constant from the table, in all four lanes (one broadcast load). */
@inline export function kf(i: i32): v128 {
  return v128.load32_splat(KF + (<usize>i << 2));
}
/** An int32 constant from the table, in all four lanes. */
@inline export function ki(i: i32): v128 {
  return v128.load32_splat(KI + (<usize>i << 2));
}

// ---- exp --------------------------------------------------------------------------------------------------

/** e^r - 1 for |r| <= ln2/2 (relative error ~1 ulp, also for tiny r). */
@inline function expm1Reduced(r: v128): v128 {
  let p = f32x4.add(f32x4.mul(kf(K_EXP_P0), r), kf(K_EXP_P1));
  p = f32x4.add(f32x4.mul(p, r), kf(K_EXP_P2));
  p = f32x4.add(f32x4.mul(p, r), kf(K_EXP_P3));
  p = f32x4.add(f32x4.mul(p, r), kf(K_EXP_P4));
  p = f32x4.add(f32x4.mul(p, r), kf(K_EXP_P5));
  return f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r);
}

/**
 * m·2^k, where t = k + 1.5·2^23 (so bits(t) carries k) and k + bias is in [-153, 129]. Scaling in two steps
 * keeps both factors normal, so results in the subnormal range are rounded once (correctly) and results past
 * FLT_MAX become +Inf.
 */
@inline function scale2(m: v128, t: v128, bias: i32): v128 {
  let kb = i32x4.add(t, ki(KI_EXP_BIAS)); // k + 127
  if (bias) kb = i32x4.add(kb, ki(KI_24));
  const k1 = i32x4.shr_s(i32x4.sub(kb, ki(KI_127)), 1);
  const s1 = i32x4.shl(i32x4.add(k1, ki(KI_127)), 23);
  const s2 = i32x4.shl(i32x4.sub(kb, k1), 23);
  return f32x4.mul(f32x4.mul(m, s1), s2);
}

/** e^x. Max error ~1 ulp; x > 88.72 → +Inf, x < -103.97 → +0, subnormal results rounded correctly. */
@inline export function vexp(x: v128): v128 {
  // The clamp keeps k inside scale2's range (NaN passes through).
  const xc = f32x4.pmin(f32x4.pmax(x, kf(K_EXP_LO)), kf(K_EXP_HI));
  const t = f32x4.add(f32x4.mul(xc, kf(K_LOG2E)), kf(K_MAGIC));
  const fn = f32x4.sub(t, kf(K_MAGIC));
  // xc - fn·LN2_HI is exact (Sterbenz); the low part adds the rest of fn·ln2.
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(fn, kf(K_LN2_HI))), f32x4.mul(fn, kf(K_LN2_LO)));
  return scale2(f32x4.add(expm1Reduced(r), kf(K_ONE)), t, 0);
}

/**
 * e^(hi + lo)·2^(bias ? 24 : 0), for hi <= 0 carrying most of the argument exactly (e.g. -x²/2 from a split
 * x, or x - m) and lo small: the reduction subtracts n·ln2 from hi first, so the rounding error of hi + lo
 * never reaches the result. gelu's tail needs e^(-x²/2) to full relative precision for |x| up to 14.
 */
@inline function vexpHiLo(hi: v128, lo: v128, bias: i32): v128 {
  const h = f32x4.pmax(hi, kf(K_EXP_LO_HILO));
  const t = f32x4.add(f32x4.mul(f32x4.add(h, lo), kf(K_LOG2E)), kf(K_MAGIC));
  const fn = f32x4.sub(t, kf(K_MAGIC));
  const r = f32x4.sub(
    f32x4.add(f32x4.sub(h, f32x4.mul(fn, kf(K_LN2_HI))), lo),
    f32x4.mul(fn, kf(K_LN2_LO)),
  );
  return scale2(f32x4.add(expm1Reduced(r), kf(K_ONE)), t, bias);
}

/**
 * e^x - 1 for x <= 0 (elu's negative side), accurate in relative terms near 0. Max error ~1.5 ulp;
 * x < -17 → -1. Positive lanes return 0 (callers select them away).
 */
@inline export function vexpm1Neg(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, kf(K_M30)), f32x4.splat(0.0));
  const t = f32x4.add(f32x4.mul(xc, kf(K_LOG2E)), kf(K_MAGIC));
  const fn = f32x4.sub(t, kf(K_MAGIC));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(fn, kf(K_LN2_HI))), f32x4.mul(fn, kf(K_LN2_LO)));
  const u = expm1Reduced(r);
  // 2^k·(1 + u) - 1 = 2^k·u + (2^k - 1); 2^k - 1 is exact for k in [-24, 0] and harmlessly rounded below.
  const s = i32x4.shl(i32x4.add(t, ki(KI_EXP_BIAS)), 23);
  return f32x4.add(f32x4.mul(s, u), f32x4.sub(s, kf(K_ONE)));
}

/**
 * The rounding error of d = x - m (TwoSum), so that x - m = d + err exactly; 0 where d is not in [-104, ∞)
 * (there e^d is 0 or NaN anyway, and Inf - Inf must not turn into NaN).
 */
@inline export function vsubErr(x: v128, m: v128, d: v128): v128 {
  const bb = f32x4.sub(d, x);
  const err = f32x4.sub(f32x4.sub(x, f32x4.sub(d, bb)), f32x4.add(m, bb));
  return v128.and(err, f32x4.ge(d, kf(K_EXP_LO)));
}

/**
 * e^(x - m) for x <= m with x - m taken exactly (softmax): rounding x - m first would cost up to |x - m|/2 ulp.
 * Max error ~1 ulp.
 */
@inline export function vexpSub(x: v128, m: v128): v128 {
  const d = f32x4.sub(x, m);
  return vexpHiLo(d, vsubErr(x, m, d), 0);
}

// ---- log --------------------------------------------------------------------------------------------------

/** log(x) for x in the normal range [FLT_MIN, FLT_MAX] without edge fixes; eAdj is subtracted from the exponent. */
@inline function logCore(x: v128, eAdj: v128, adj: bool): v128 {
  // x = m·2^e with m in [0.5, 1).
  let ei = i32x4.sub(i32x4.shr_u(x, 23), ki(KI_126));
  if (adj) ei = i32x4.sub(ei, eAdj);
  let e = f32x4.convert_i32x4_s(ei);
  let m = v128.or(v128.and(x, ki(KI_MANT)), ki(KI_HALF_EXP));
  // m < sqrt(1/2): use 2m - 1 and e - 1, so the polynomial argument stays in [-0.29, 0.41].
  const small = f32x4.lt(m, kf(K_SQRT_HALF));
  e = f32x4.sub(e, v128.and(small, kf(K_ONE)));
  m = f32x4.sub(f32x4.add(m, v128.and(small, m)), kf(K_ONE));
  const z = f32x4.mul(m, m);
  let p = f32x4.add(f32x4.mul(kf(K_LOG_P0), m), kf(K_LOG_P1));
  p = f32x4.add(f32x4.mul(p, m), kf(K_LOG_P2));
  p = f32x4.add(f32x4.mul(p, m), kf(K_LOG_P3));
  p = f32x4.add(f32x4.mul(p, m), kf(K_LOG_P4));
  p = f32x4.add(f32x4.mul(p, m), kf(K_LOG_P5));
  p = f32x4.add(f32x4.mul(p, m), kf(K_LOG_P6));
  p = f32x4.add(f32x4.mul(p, m), kf(K_LOG_P7));
  p = f32x4.add(f32x4.mul(p, m), kf(K_LOG_P8));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = f32x4.add(y, f32x4.mul(e, kf(K_LN2_LO)));
  y = f32x4.sub(y, f32x4.mul(z, kf(K_HALF)));
  return f32x4.add(f32x4.add(m, y), f32x4.mul(e, kf(K_LN2_HI)));
}

/** Natural log. Max error ~1 ulp; log(±0) = -Inf, log(<0) = NaN, log(+Inf) = +Inf, subnormals handled. */
@inline export function vlog(x: v128): v128 {
  // Subnormals: scale by 2^23 and take 23 off the exponent.
  const sub = f32x4.lt(x, kf(K_FLT_MIN));
  const xs = v128.bitselect(f32x4.mul(x, kf(K_TWO23)), x, sub);
  let r = logCore(xs, v128.and(sub, ki(KI_23)), true);
  r = v128.bitselect(kf(K_INF), r, f32x4.eq(x, kf(K_INF)));
  r = v128.bitselect(kf(K_NEG_INF), r, f32x4.eq(x, f32x4.splat(0.0)));
  // x < 0 and NaN both fail x >= 0.
  return v128.bitselect(r, kf(K_NAN), f32x4.ge(x, f32x4.splat(0.0)));
}

// ---- sigmoid, tanh, softplus, sign ------------------------------------------------------------------------

/** 1 / (1 + e^-x). Max error ~2 ulp; -Inf → 0, +Inf → 1, subnormal results kept for x in [-104, -87]. */
@inline export function vsigmoid(x: v128): v128 {
  // e = e^-|x| never overflows; for x < 0 the result is e/(1+e), for x >= 0 it is 1/(1+e).
  const e = vexp(v128.or(x, ki(KI_SIGN)));
  const num = v128.bitselect(kf(K_ONE), e, f32x4.ge(x, f32x4.splat(0.0)));
  return f32x4.div(num, f32x4.add(kf(K_ONE), e));
}

/** tanh(x). Max error ~2 ulp; ±Inf → ±1, keeps the sign of zero. */
@inline export function vtanh(x: v128): v128 {
  const a = v128.and(x, ki(KI_ABS));
  // |x| < 0.625: odd polynomial (Cephes).
  const z = f32x4.mul(a, a);
  let p = f32x4.add(f32x4.mul(kf(K_TANH_P0), z), kf(K_TANH_P1));
  p = f32x4.add(f32x4.mul(p, z), kf(K_TANH_P2));
  p = f32x4.add(f32x4.mul(p, z), kf(K_TANH_P3));
  p = f32x4.add(f32x4.mul(p, z), kf(K_TANH_P4));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), a), a);
  // Otherwise (1 - e)/(1 + e) with e = e^-2|x| <= 0.29: no cancellation, and 2|x| = Inf gives exactly 1.
  const e = vexp(f32x4.neg(f32x4.add(a, a)));
  const big = f32x4.div(f32x4.sub(kf(K_ONE), e), f32x4.add(kf(K_ONE), e));
  const r = v128.bitselect(small, big, f32x4.lt(a, kf(K_TANH_SMALL)));
  // Put the sign of x back (r >= 0 or NaN).
  return v128.or(r, v128.and(x, ki(KI_SIGN)));
}

/** log(1 + e^x) = max(x, 0) + log1p(e^-|x|). Max error ~2 ulp; keeps e^x precision for very negative x. */
@inline export function vsoftplus(x: v128): v128 {
  const e = vexp(v128.or(x, ki(KI_SIGN)));
  const u = f32x4.add(kf(K_ONE), e);
  // log1p(e) = log(u) + (e - (u - 1))/u: the second term is the rounding error of 1 + e, exact to first order.
  const c = f32x4.div(f32x4.sub(e, f32x4.sub(u, kf(K_ONE))), u);
  const l = f32x4.add(logCore(u, u, false), c);
  // pmax(x, 0) keeps a NaN x.
  return f32x4.add(f32x4.pmax(x, f32x4.splat(0.0)), l);
}

/** sign(x): -1, +1, ±0 kept, NaN kept (Math.sign). */
@inline export function vsign(x: v128): v128 {
  const one = v128.or(kf(K_ONE), v128.and(x, ki(KI_SIGN)));
  // |x| > 0 is false for ±0 and NaN, which pass through unchanged.
  return v128.bitselect(one, x, f32x4.gt(v128.and(x, ki(KI_ABS)), f32x4.splat(0.0)));
}

// ---- gelu -------------------------------------------------------------------------------------------------

/** -x²/2 = hi + lo for a = |x|, with hi exact: a is split into 12 high bits + the rest so a_hi² is exact. */
@inline function negHalfSqHi(a: v128): v128 {
  const ah = v128.and(a, ki(KI_SPLIT));
  return f32x4.mul(f32x4.mul(ah, ah), kf(K_M_HALF));
}
@inline function negHalfSqLo(a: v128): v128 {
  const ah = v128.and(a, ki(KI_SPLIT));
  const al = f32x4.sub(a, ah);
  return f32x4.neg(f32x4.add(f32x4.mul(ah, al), f32x4.mul(f32x4.mul(al, al), kf(K_HALF))));
}

/**
 * erfc(a/√2) for a = |x| >= 0, with e^(-a²/2) taken from the exact split above: the tail of Φ(x) keeps full
 * relative precision down to x ≈ -13 (where x·Φ(x) underflows), which 1 + erf(x/√2) could not.
 * With `bias` the result is scaled by 2^24, so that a tail value stays normal until its last rounding.
 */
@inline function erfcHalfSqrt2(a: v128, hi: v128, lo: v128, bias: i32): v128 {
  const z = f32x4.mul(a, kf(K_SQRT_HALF));
  const t = f32x4.div(kf(K_ONE), f32x4.add(kf(K_ONE), f32x4.mul(z, kf(K_HALF))));
  let p = f32x4.add(f32x4.mul(kf(K_ERFC_C9), t), kf(K_ERFC_C8));
  p = f32x4.add(f32x4.mul(p, t), kf(K_ERFC_C7));
  p = f32x4.add(f32x4.mul(p, t), kf(K_ERFC_C6));
  p = f32x4.add(f32x4.mul(p, t), kf(K_ERFC_C5));
  p = f32x4.add(f32x4.mul(p, t), kf(K_ERFC_C4));
  p = f32x4.add(f32x4.mul(p, t), kf(K_ERFC_C3));
  p = f32x4.add(f32x4.mul(p, t), kf(K_ERFC_C2));
  p = f32x4.add(f32x4.mul(p, t), kf(K_ERFC_C1));
  p = f32x4.add(f32x4.mul(p, t), kf(K_ERFC_C0));
  return f32x4.mul(t, vexpHiLo(hi, f32x4.add(lo, p), bias));
}

/** Φ(x) for x in [-0.5, 1] (used there; more accurate than the erfc form near 0). */
@inline function phiSmall(x: v128): v128 {
  const u = f32x4.mul(x, x);
  let s = f32x4.add(f32x4.mul(kf(K_PHI_S6), u), kf(K_PHI_S5));
  s = f32x4.add(f32x4.mul(s, u), kf(K_PHI_S4));
  s = f32x4.add(f32x4.mul(s, u), kf(K_PHI_S3));
  s = f32x4.add(f32x4.mul(s, u), kf(K_PHI_S2));
  s = f32x4.add(f32x4.mul(s, u), kf(K_PHI_S1));
  s = f32x4.add(f32x4.mul(s, u), kf(K_PHI_S0));
  return f32x4.add(kf(K_HALF), f32x4.mul(x, s));
}

@inline function isSmallForPhi(x: v128): v128 {
  return v128.and(f32x4.ge(x, kf(K_M_HALF)), f32x4.le(x, kf(K_ONE)));
}

/** gelu(x) = x·Φ(x), exact form. gelu(-Inf) = -0 (the limit), gelu(+Inf) = +Inf. */
@inline export function vgelu(x: v128): v128 {
  // |x| is capped so that the split below never sees Inf (Inf - Inf); Φ is exactly 0 or 1 well before 30.
  const a = f32x4.pmin(v128.and(x, ki(KI_ABS)), kf(K_P30));
  // e = erfc(|x|/√2)·2^24: Φ(x) = e/2 for x < 0 and 1 - e/2 otherwise. For x < -13 Φ is subnormal, so the
  // negative side multiplies by x before scaling back, and only the final result is rounded into subnormals.
  const e = erfcHalfSqrt2(a, negHalfSqHi(a), negHalfSqLo(a), 24);
  const halfE = f32x4.mul(e, kf(K_HALF));
  // Clamping x keeps -Inf·0 from becoming NaN; x·Φ(x) has underflowed long before -30.
  const neg = f32x4.mul(f32x4.mul(f32x4.pmax(x, kf(K_M30)), halfE), kf(K_TWO_M24));
  const pos = f32x4.mul(x, f32x4.sub(kf(K_ONE), f32x4.mul(halfE, kf(K_TWO_M24))));
  const big = v128.bitselect(neg, pos, f32x4.lt(x, f32x4.splat(0.0)));
  return v128.bitselect(f32x4.mul(x, phiSmall(x)), big, isSmallForPhi(x));
}

/**
 * gelu'(x) = Φ(x) + x·φ(x), with φ(x) = e^(-x²/2 - log√(2π)) from the same exact split. Near its zero at
 * x ≈ -0.7518 the two terms cancel, so only an absolute error bound (~2e-7) holds there.
 */
@inline export function vgeluGrad(x: v128): v128 {
  const a = f32x4.pmin(v128.and(x, ki(KI_ABS)), kf(K_P30));
  const hi = negHalfSqHi(a);
  const lo = negHalfSqLo(a);
  const halfE = f32x4.mul(erfcHalfSqrt2(a, hi, lo, 0), kf(K_HALF));
  let phi = v128.bitselect(halfE, f32x4.sub(kf(K_ONE), halfE), f32x4.lt(x, f32x4.splat(0.0)));
  phi = v128.bitselect(phiSmall(x), phi, isSmallForPhi(x));
  const dens = vexpHiLo(hi, f32x4.add(lo, kf(K_LOG_INV_SQRT_2PI)), 0);
  const xc = f32x4.pmin(f32x4.pmax(x, kf(K_M30)), kf(K_P30));
  return f32x4.add(phi, f32x4.mul(xc, dens));
}

