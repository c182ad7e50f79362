// Kernels used by training besides the math: gathering a shuffled batch, inverted dropout, and the
// Gaussian noise of private training.

/** y[r, :] = x[idx[r], :]; idx holds row numbers as f32 (validated by the caller). */
export function f32_gather_rows(rows: i32, cols: i32, x: usize, idx: usize, y: usize): void {
  const bytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const src = x + <usize>(<i32>load<f32>(idx + (<usize>r << 2))) * bytes;
    memory.copy(y + <usize>r * bytes, src, bytes);
  }
}

// lowbias32, the same hash as src/backend/math.ts (hash32), on one lane and on four.
// @ts-ignore: decorator
@inline function hash(x: u32): u32 {
  x ^= x >>> 16;
  x *= 0x7feb352d;
  x ^= x >>> 15;
  x *= 0x846ca68b;
  return x ^ (x >>> 16);
}

// @ts-ignore: decorator
@inline function hash4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x7feb352d));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, i32x4.splat(0x846ca68b));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

/**
 * Inverted dropout with a counter-based RNG: element i is kept when the top 24 bits of
 * hash(hash(seed) ^ hash(offset + i)), as a fraction of 2^24, fall below keep; mask = 1/keep or 0,
 * y = x·mask. Pure, so any thread (or the GPU) can produce any slice of the same mask.
 */
export function f32_dropout(n: i32, x: usize, y: usize, mask: usize, keep: f32, seed: u32, offset: u32): void {
  const key = hash(seed);
  const scale: f32 = keep > 0 ? <f32>1 / keep : 0;
  // Compare in the integer domain: u < keep ⇔ (h >>> 8) < keep·2^24 (keep·2^24 is exact for any f32 keep ≤ 1).
  const limit = <f64>keep * 16777216.0;
  let i = 0;
  if (limit >= 16777216.0) {
    for (; i < n; i++) {
      store<f32>(mask + (<usize>i << 2), scale);
      store<f32>(y + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * scale);
    }
    return;
  }
  const lim = <i32>Math.ceil(limit); // kept ⇔ (h >>> 8) < lim
  const vkey = i32x4.splat(key), vlim = i32x4.splat(lim), vscale = f32x4.splat(scale);
  let ctr = i32x4(offset, offset + 1, offset + 2, offset + 3);
  const four = i32x4.splat(4);
  for (; i + 4 <= n; i += 4) {
    const h = i32x4.shr_u(hash4(v128.xor(vkey, hash4(ctr))), 8);
    const m = v128.and(i32x4.lt_s(h, vlim), vscale);
    const p = <usize>i << 2;
    v128.store(mask + p, m);
    v128.store(y + p, f32x4.mul(v128.load(x + p), m));
    ctr = i32x4.add(ctr, four);
  }
  for (; i < n; i++) {
    const h = hash(key ^ hash(offset + <u32>i)) >>> 8;
    const m: f32 = <i32>h < lim ? scale : 0;
    store<f32>(mask + (<usize>i << 2), m);
    store<f32>(y + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * m);
  }
}

// ---- Gaussian noise ----------------------------------------------------------------------------------------
//
// Speed (V8, x64): every constant is broadcast from the table below (a v128.const costs three instructions at
// each use inside a loop, assembly/vmath.ts), and the body draws two independent groups of four pairs per
// iteration, interleaved, so the CPU overlaps their long dependency chains (three hashes, log, sqrt, the
// polynomials: ~150 cycles of latency per group); about 2x the one-group loop.
//
// Accuracy (against the float64 reference normalAt, 6M values): within 0.1 of the conformance tolerance,
// mean |error| 5e-8. The approximations, each below float32 rounding on its interval:
// - log u1 for u1 = h1·2^-32 in [2^-33, 1): no zero, negative, subnormal, inf or NaN can occur, so the
//   exponent/mantissa split needs no edge fixes; log(1 + x) = x − x²/2 + x³·P(x) on x in [√½ − 1, √2 − 1],
//   P of degree 6 (weighted minimax fit, relative error 3e-8), evaluated by Estrin's scheme (shorter chain).
// - cos(2πt) and sin(2πt)/t on t in [−¼, ¼] as polynomials in s = t² of degree 5 and 4 (minimax fits,
//   absolute error 2e-10 and 3e-9·|t|); |t| > ¼ is folded by t ∓ ½, which flips the sign of both values.
// @ts-ignore: decorator
@lazy const NF = memory.data<f32>([
  1.0, -19.739208221435547, 64.93934631347656, -85.45357513427734, 60.14401626586914, -24.982236862182617,
  6.283185005187988, -41.34165573120117, 81.60100555419922, -76.5497817993164, 39.536705017089844,
  0.3333390951156616, -0.2500133812427521, 0.19963063299655914, -0.1657758504152298, 0.14914777874946594,
  -0.14267480373382568, 0.08700393885374069,
  0.693359375, -2.12194440e-4, 0.707106781186547524, 0.5, 0.25, -2.0, 5.9604644775390625e-8,
], 16);
const N_COS = 0; // 6 coefficients, constant term first
const N_ONE = 0; // cos's constant term is 1
const N_SIN = 6; // 5
const N_LOG = 11; // 7: P(x) = Σ N_LOG[k]·x^k
const N_LN2_HI = 18; // ln 2 split so that e·LN2_HI is exact
const N_LN2_LO = 19;
const N_SQRT_HALF = 20;
const N_HALF = 21;
const N_QUARTER = 22;
const N_M2 = 23;
const N_TWO_M24 = 24;
// @ts-ignore: decorator
@lazy const NI = memory.data<i32>([0x7feb352d, 0x846ca68b, 0x9e3779b9, 0x7fffffff, 0x80000000, 0x007fffff, 0x3f000000, 158, 4, 8], 16);
const NI_MUL1 = 0;
const NI_MUL2 = 1;
const NI_GOLDEN = 2;
const NI_LOW31 = 3;
const NI_SIGN = 4;
const NI_MANT = 5;
const NI_HALF_EXP = 6;
const NI_EXP_OFF = 7; // 126 + 32: the biased exponent of m·2^E in [0.5, 1)·2^E, and u1 = x·2^-32
const NI_FOUR = 8;
const NI_EIGHT = 9;

// @ts-ignore: decorator
@inline function nf(i: i32): v128 {
  return v128.load32_splat(NF + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function ni(i: i32): v128 {
  return v128.load32_splat(NI + (<usize>i << 2));
}

/** hash (lowbias32) on four lanes, constants from the table. */
// @ts-ignore: decorator
@inline function nhash(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, ni(NI_MUL1));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, ni(NI_MUL2));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

/** h1 of four pair counters (already taken mod 2^31). */
// @ts-ignore: decorator
@inline function drawH1(vkey: v128, pairs: v128): v128 {
  return nhash(v128.xor(vkey, nhash(pairs)));
}

/** r = √(−2 ln u1), u1 = h1·2^-32, or 2^-33 for h1 = 0. */
// @ts-ignore: decorator
@inline function radius(h1: v128): v128 {
  // x = h1 as f32 (rounded; the pmax turns h1 = 0 into ½ = 2^-33·2^32) = m·2^E, m in [0.5, 1).
  const x = f32x4.pmax(f32x4.convert_i32x4_u(h1), nf(N_HALF));
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(x, 23), ni(NI_EXP_OFF)));
  let m = v128.or(v128.and(x, ni(NI_MANT)), ni(NI_HALF_EXP));
  // m < √½: use 2m − 1 and e − 1, so the argument stays in [√½ − 1, √2 − 1].
  const small = f32x4.lt(m, nf(N_SQRT_HALF));
  e = f32x4.sub(e, v128.and(small, nf(N_ONE)));
  m = f32x4.sub(f32x4.add(m, v128.and(small, m)), nf(N_ONE));
  const z = f32x4.mul(m, m);
  const q0 = f32x4.add(f32x4.mul(nf(N_LOG + 1), m), nf(N_LOG));
  const q1 = f32x4.add(f32x4.mul(nf(N_LOG + 3), m), nf(N_LOG + 2));
  const q2 = f32x4.add(f32x4.mul(nf(N_LOG + 5), m), nf(N_LOG + 4));
  const z2 = f32x4.mul(z, z);
  const p = f32x4.add(f32x4.add(f32x4.mul(q1, z), q0), f32x4.mul(f32x4.add(f32x4.mul(nf(N_LOG + 6), z), q2), z2));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = f32x4.add(y, f32x4.mul(e, nf(N_LN2_LO)));
  y = f32x4.sub(y, f32x4.mul(z, nf(N_HALF)));
  const lnu = f32x4.add(f32x4.add(m, y), f32x4.mul(e, nf(N_LN2_HI)));
  return f32x4.sqrt(f32x4.mul(nf(N_M2), lnu));
}

/** t in [−½, ½) from the top 24 bits of h2 (exact: a 24-bit integer converts exactly). */
// @ts-ignore: decorator
@inline function turn(h2: v128): v128 {
  return f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(h2, 8)), nf(N_TWO_M24)), nf(N_HALF));
}

/** The lanes where |t| > ¼, as a mask. */
// @ts-ignore: decorator
@inline function far(t: v128): v128 {
  return f32x4.gt(v128.andnot(t, ni(NI_SIGN)), nf(N_QUARTER));
}

/** t folded into [−¼, ¼]: t − ½·sign(t) where |t| > ¼ (exact: t is a multiple of 2^-24). */
// @ts-ignore: decorator
@inline function fold(t: v128, f: v128): v128 {
  return f32x4.sub(t, v128.and(f, v128.or(v128.and(t, ni(NI_SIGN)), nf(N_HALF))));
}

/** cos(2πt), s = t², t in [−¼, ¼]. */
// @ts-ignore: decorator
@inline function cosPoly(s: v128): v128 {
  let p = f32x4.add(f32x4.mul(nf(N_COS + 5), s), nf(N_COS + 4));
  p = f32x4.add(f32x4.mul(p, s), nf(N_COS + 3));
  p = f32x4.add(f32x4.mul(p, s), nf(N_COS + 2));
  p = f32x4.add(f32x4.mul(p, s), nf(N_COS + 1));
  return f32x4.add(f32x4.mul(p, s), nf(N_COS));
}

/** sin(2πt)/t, s = t², t in [−¼, ¼]. */
// @ts-ignore: decorator
@inline function sinPoly(s: v128): v128 {
  let p = f32x4.add(f32x4.mul(nf(N_SIN + 4), s), nf(N_SIN + 3));
  p = f32x4.add(f32x4.mul(p, s), nf(N_SIN + 2));
  p = f32x4.add(f32x4.mul(p, s), nf(N_SIN + 1));
  return f32x4.add(f32x4.mul(p, s), nf(N_SIN));
}

/** y[0..8) += std·(c0, s0, c1, s1, c2, s2, c3, s3) for the cos-side zc and sin-side zs of four pairs. */
// @ts-ignore: decorator
@inline function addPairs(p: usize, vstd: v128, zc: v128, zs: v128): void {
  const lo = v128.shuffle<f32>(zc, zs, 0, 4, 1, 5);
  const hi = v128.shuffle<f32>(zc, zs, 2, 6, 3, 7);
  v128.store(p, f32x4.add(v128.load(p), f32x4.mul(vstd, lo)));
  v128.store(p + 16, f32x4.add(v128.load(p + 16), f32x4.mul(vstd, hi)));
}

/**
 * One group of four pairs (eight values) at y. The body below inlines the same steps for two groups; both
 * must stay the same operations in the same order as normalOne, which the tails rely on being bit-identical.
 */
// @ts-ignore: decorator
@inline function addGroup(p: usize, vstd: v128, vkey: v128, pairs: v128): void {
  const h1 = drawH1(vkey, pairs);
  const t0 = turn(nhash(v128.xor(h1, ni(NI_GOLDEN))));
  const f = far(t0);
  const t = fold(t0, f);
  const r = v128.xor(radius(h1), v128.and(f, ni(NI_SIGN)));
  const s = f32x4.mul(t, t);
  addPairs(p, vstd, f32x4.mul(r, cosPoly(s)), f32x4.mul(f32x4.mul(r, t), sinPoly(s)));
}

/** The normal at element counter e of the stream `key`, one lane (src/backend/math.ts, normalAt). */
// @ts-ignore: decorator
@inline function normalOne(key: u32, e: u32): f32 {
  const h1 = drawH1(i32x4.splat(key), i32x4.splat(e >>> 1));
  const t0 = turn(nhash(v128.xor(h1, ni(NI_GOLDEN))));
  const f = far(t0);
  const t = fold(t0, f);
  const r = v128.xor(radius(h1), v128.and(f, ni(NI_SIGN)));
  const s = f32x4.mul(t, t);
  const z = (e & 1) == 0 ? f32x4.mul(r, cosPoly(s)) : f32x4.mul(f32x4.mul(r, t), sinPoly(s));
  return f32x4.extract_lane(z, 0);
}

/**
 * y[i] += std·z(offset + i): Gaussian noise of the counter-based stream of `seed`, two normals per
 * Box–Muller draw (src/backend/math.ts, normalAt, is the reference). The body draws eight pairs per
 * iteration (sixteen values) from an even counter, then one group of four pairs; an odd start and the tail
 * go one by one. Every path computes a value with the same operations, so the split does not change a bit.
 * Pure, so any thread (or the GPU) can add any slice of the same noise.
 */
export function f32_add_normal(n: i32, y: usize, std: f32, seed: u32, offset: u32): void {
  const key = hash(seed);
  let i = 0;
  if ((offset & 1) != 0 && n > 0) {
    store<f32>(y, load<f32>(y) + std * normalOne(key, offset));
    i = 1;
  }
  const vkey = i32x4.splat(key), vstd = f32x4.splat(std);
  const p0 = (offset + <u32>i) >>> 1;
  // The pair of element counter e is (e mod 2^32) >>> 1: 31 bits, so the pair counter wraps at 2^31.
  let pa = i32x4(p0, p0 + 1, p0 + 2, p0 + 3);
  for (; i + 16 <= n; i += 16) {
    // Two groups, a (pairs pa) and b (pa + 4), step by step so their chains interleave.
    const ha = drawH1(vkey, v128.and(pa, ni(NI_LOW31)));
    const hb = drawH1(vkey, v128.and(i32x4.add(pa, ni(NI_FOUR)), ni(NI_LOW31)));
    const ta0 = turn(nhash(v128.xor(ha, ni(NI_GOLDEN))));
    const tb0 = turn(nhash(v128.xor(hb, ni(NI_GOLDEN))));
    const ra0 = radius(ha);
    const rb0 = radius(hb);
    const fa = far(ta0), fb = far(tb0);
    const ta = fold(ta0, fa), tb = fold(tb0, fb);
    const ra = v128.xor(ra0, v128.and(fa, ni(NI_SIGN))), rb = v128.xor(rb0, v128.and(fb, ni(NI_SIGN)));
    const sa = f32x4.mul(ta, ta), sb = f32x4.mul(tb, tb);
    const ca = cosPoly(sa), cb = cosPoly(sb);
    const na = sinPoly(sa), nb = sinPoly(sb);
    const p = y + (<usize>i << 2);
    addPairs(p, vstd, f32x4.mul(ra, ca), f32x4.mul(f32x4.mul(ra, ta), na));
    addPairs(p + 32, vstd, f32x4.mul(rb, cb), f32x4.mul(f32x4.mul(rb, tb), nb));
    pa = i32x4.add(pa, ni(NI_EIGHT));
  }
  if (i + 8 <= n) {
    addGroup(y + (<usize>i << 2), vstd, vkey, v128.and(pa, ni(NI_LOW31)));
    i += 8;
  }
  for (; i < n; i++) {
    const p = y + (<usize>i << 2);
    store<f32>(p, load<f32>(p) + std * normalOne(key, offset + <u32>i));
  }
}
