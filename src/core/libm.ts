// log, sin and cos in plain float64 arithmetic, for the normal deviates of the seeded generator
// (random.ts) and its wasm twin (assembly/random.ts, the same operations in the same order).
//
// Why not Math.log/sin/cos: ECMAScript leaves their last bit to the engine, and engines do differ: Node
// 20's V8 computes them with fdlibm, while Deno 2.9's (V8 15) differs from that in the last bit for 3–7%
// of the generator's arguments (V8 may be built to take sin/cos from glibc), and C code compiled for
// arm64 may fuse a*b+c into one rounding. A seed would then give different weights on different
// runtimes, and the wasm kernel (whose arithmetic is exactly specified) could not agree with the js
// backend everywhere. These functions are fdlibm's algorithms
// (the ones V8 has used for Math.log since 2016, and for sin/cos unless built with glibc's) written with
// +, -, *, / and comparisons only: JS and wasm round each of those exactly as IEEE 754 says and never
// contract two into one, so the results are the same on every engine, and the same as Math's on Node 20.
//
// fdlibm reads and writes the high 32 bits of doubles; here every such step is an exact equivalent in
// arithmetic (a comparison with a constant, a scaling by a power of two, a floor), because a
// Float64Array round trip per step made the generator several times slower at start-up, before the JIT
// has compiled it. The arguments are what the generator has: 1 − t/2³² and 2π·t/2³² for a uint32 t.

const LN2_HI = 6.93147180369123816490e-1; // 0x3FE62E42 FEE00000
const LN2_LO = 1.90821492927058770002e-10; // 0x3DEA39EF 35793C76
const LG1 = 6.666666666666735130e-1, LG2 = 3.999999999940941908e-1, LG3 = 2.857142874366239149e-1;
const LG4 = 2.222219843214978396e-1, LG5 = 1.818357216161805012e-1, LG6 = 1.531383769920937332e-1;
const LG7 = 1.479819860511658591e-1;

/** Scratch for selections by index (see lnOneMinus); PICK[4] stays 0.28125 (sinCos). */
const PICK = Float64Array.of(0, 0, 0, 0, 0.28125);

/** 2⁻ᵉ for e = 0..32, exact (halving is exact). */
const INV_POW2 = new Float64Array(33);
for (let e = 0, v = 1; e <= 32; e++, v /= 2) INV_POW2[e] = v;

/**
 * ln(1 − t/2³²) for an integer 0 ≤ t < 2³², as fdlibm's log computes it for that double. With
 * m = 2³² − t (an integer, 2^e ≤ m < 2^(e+1)), the double is m·2⁻³²: its exponent is e − 32 and the top
 * 20 bits of its fraction are those of m below its leading 1, so fdlibm's reduction x = 2^k·(1+f),
 * √2/2 < 1+f < √2, is m·2⁻ᵉ or m·2⁻ᵉ⁻¹ (exact) and k follows; then ln(1+f) by a minimax polynomial in
 * s = f/(2+f).
 */
export function lnOneMinus(t: number): number {
  const m = 4294967296 - t;
  if (m === 4294967296) return 0; // ln 1
  const e = 31 - Math.clz32(m);
  const hx = ((m << (31 - e)) >>> 11) & 0x000fffff; // fdlibm's hx: the fraction's top 20 bits
  const up = ((hx + 0x95f64) & 0x100000) >>> 20; // 1 when 1+f ≥ √2: halve it, k + 1
  const k = e - 32 + up;
  const f = m * INV_POW2[e + up] - 1;
  // fdlibm writes k = 0 apart (f − … instead of k·ln2_hi − (… − f)); with k = 0 the general form gives
  // the same double (k·ln2 terms are +0, and a − b = −(b − a) exactly), so one form serves, and so do the
  // selections below, made by index instead of by branch: their conditions are coin flips, and a
  // mispredicted branch costs as much as the polynomial.
  const khi = k * LN2_HI, klo = k * LN2_LO;
  // |f| < 2⁻²⁰ (rare): two terms of the series are enough (f = 0 included: k·ln2_hi + k·ln2_lo). Always
  // computed and picked like the rest: a branch taken once in ~10⁶ draws would deoptimise the caller.
  const r2 = f * f * (0.5 - 0.33333333333333333 * f);
  PICK[2] = PICK[3] = khi - ((r2 - klo) - f);
  const s = f / (2 + f);
  const z = s * s;
  const w = z * z;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const r = t2 + t1;
  const hfsq = 0.5 * f * f;
  PICK[0] = khi - ((hfsq - (s * (hfsq + r) + klo)) - f); // f farther from 0: f²/2 kept apart
  PICK[1] = khi - ((s * (f - r) - klo) - f);
  return PICK[(((hx - 0x6147a) | (0x6b851 - hx)) >>> 31) | (+((0x000fffff & (2 + hx)) < 3) << 1)];
}

/** The double whose high word is `hi` and low word 0: fdlibm's `high word < hi` is `x < word(hi)` for x ≥ 0. */
function word(hi: number): number {
  const b = new DataView(new ArrayBuffer(8));
  b.setUint32(0, hi);
  return b.getFloat64(0);
}

const S1 = -1.66666666666666324348e-1, S2 = 8.33333333332248946124e-3, S3 = -1.98412698298579493134e-4;
const S4 = 2.75573137070700676789e-6, S5 = -2.50507602534068634195e-8, S6 = 1.58969099521155010221e-10;
const C1 = 4.16666666666666019037e-2, C2 = -1.38888888888741095749e-3, C3 = 2.48015872894767294178e-5;
const C4 = -2.75573143513906633035e-7, C5 = 2.08757232129817482790e-9, C6 = -1.13596475577881948265e-11;
const TINY = 1 / 134217728; // 2⁻²⁷ = word(0x3e400000): below it, sin x = x and cos x = 1 in double
const COS_NEAR = word(0x3fd33333); // ~0.3
const COS_FAR = word(0x3fe90001); // just above 0.78125

/** sin(x + y) for |x| ≤ ~π/4, y the tail of x; tail = false means y is 0 (fdlibm's __kernel_sin). */
function kernelSin(x: number, y: number, tail: boolean): number {
  if (Math.abs(x) < TINY) return x;
  const z = x * x;
  const v = z * x;
  const r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  return tail ? x - ((z * (0.5 * y - v * r) - y) - v * S1) : x + v * (S1 + z * r);
}

/** cos(x + y) for |x| ≤ ~π/4, y the tail of x (fdlibm's __kernel_cos). */
function kernelCos(x: number, y: number): number {
  const ax = Math.abs(x);
  if (ax < TINY) return 1;
  const z = x * x;
  const r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
  if (ax < COS_NEAR) return 1 - (0.5 * z - (z * r - x * y));
  // 1 - x²/2 as (1 - qx) - (x²/2 - qx), both differences exact, with qx = x/4 cut to its high word
  // (its fraction's low 32 bits cleared: a floor at 2^(E−20), E = x's exponent, −2 or −1 here).
  let qx = 0.28125;
  if (ax < COS_FAR) {
    const unit = ax >= 0.5 ? 1 / 2097152 : 1 / 4194304; // 2⁻²¹, 2⁻²²
    qx = Math.floor(ax / unit) * unit * 0.25;
  }
  return (1 - qx) - ((0.5 * z - qx) - (z * r - x * y));
}

const INVPIO2 = 6.36619772367581382433e-1; // 0x3FE45F30 6DC9C883
const PIO2_1 = 1.57079632673412561417; // 0x3FF921FB 54400000: first 33 bits of π/2
const PIO2_1T = 6.07710050650619224932e-11; // π/2 - PIO2_1
const PIO2_2 = 6.07710050630396597660e-11; // next 33 bits
const PIO2_2T = 2.02226624879595063154e-21;
const PIO2_3 = 2.02226624871116645580e-21; // next 33 bits
const PIO2_3T = 8.47842766036889956997e-32;
const PIO4_UP = word(0x3fe921fc); // fdlibm: |x| ≤ ~π/4 means a high word ≤ 0x3FE921FB
const PIO34 = word(0x4002d97c); // ~3π/4
// [lo, hi) of the doubles whose high word is that of n·π/2, n = 1..4: there x − n·π/2 may lose bits to
// cancellation, and fdlibm reduces with more bits of π/2.
const NPIO2_LO = [0x3ff921fb, 0x400921fb, 0x4012d97c, 0x401921fb].map(word);
const NPIO2_HI = [0x3ff921fc, 0x400921fc, 0x4012d97d, 0x401921fc].map(word);

/** sin of the last sinCos() argument (a typed array: a double kept in a variable is boxed at every store). */
export const sinOut = new Float64Array(1);

/**
 * cos(x) for 0 ≤ x < 2π, and sin(x) into `sinOut` (one reduction serves both), as fdlibm's cos and sin:
 * x = n·π/2 + (y0 + y1) with |y0 + y1| ≤ ~π/4, then the kernels by quadrant. The common case runs
 * without branches on the data (as lnOneMinus); the rare ones, where fdlibm takes another road, run
 * sinCosExact, which follows fdlibm's branches one for one.
 */
export function sinCos(x: number): number {
  // One reduction formula serves every quadrant: n = 0 gives y0 = x, y1 = 0 and n = 1 the 3π/4 case's
  // y0, y1, both exactly. x in the band of n·π/2 (more bits of π/2 needed) goes the exact way.
  // (fdlibm reduces nothing below PIO4_UP, a little above π/4, where the rounding would give n = 1.)
  const n = ((x * INVPIO2 + 0.5) | 0) & -+(x >= PIO4_UP);
  if (x >= BAND_LO[n] && x < BAND_HI[n]) return sinCosExact(x);
  const r = x - n * PIO2_1;
  const w = n * PIO2_1T;
  const y0 = r - w;
  const y1 = (r - y0) - w;
  const ay = Math.abs(y0);
  if (ay < TINY) return sinCosExact(x);
  const z = y0 * y0;
  const v = z * y0;
  // kernelSin: with the tail (n ≥ 1), or without (n = 0)
  const rs = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  PICK[0] = y0 - ((z * (0.5 * y1 - v * rs) - y1) - v * S1);
  PICK[1] = y0 + v * (S1 + z * rs);
  const ks = PICK[(n - 1) >>> 31];
  // kernelCos: (1 − qx) − ((z/2 − qx) − (z·r − y0·y1)) with qx = 0 below 0.3 (fdlibm's other form, to the
  // bit), 0.28125 above 0.78125, else y0/4 cut to its high word (a floor at 2^(E−20), E = y0's exponent:
  // −1 from 0.5, else −2)
  const rc = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
  const unit = UNIT[+(ay >= 0.5)];
  PICK[2] = 0;
  PICK[3] = Math.floor(ay / unit) * unit * 0.25;
  const qx = PICK[2 + +(ay >= COS_NEAR) + +(ay >= COS_FAR)]; // PICK[4] is 0.28125
  const kc = (1 - qx) - ((0.5 * z - qx) - (z * rc - y0 * y1));
  // by quadrant: sin = ks, kc, −ks, −kc and cos = kc, −ks, −kc, ks for n mod 4 = 0, 1, 2, 3
  QUAD[0] = ks;
  QUAD[1] = kc;
  QUAD[2] = -ks;
  QUAD[3] = -kc;
  sinOut[0] = QUAD[n & 3];
  return QUAD[(n + 1) & 3];
}

const UNIT = Float64Array.of(1 / 4194304, 1 / 2097152); // 2⁻²², 2⁻²¹
const QUAD = new Float64Array(4);
// [BAND_LO[n], BAND_HI[n]): the doubles whose high word is that of n·π/2 (none for n = 0)
const BAND_LO = Float64Array.of(Infinity, ...NPIO2_LO);
const BAND_HI = Float64Array.of(Infinity, ...NPIO2_HI);

/** sinCos by fdlibm's branches, one for one. */
export function sinCosExact(x: number): number {
  if (x < PIO4_UP) {
    sinOut[0] = kernelSin(x, 0, false);
    return kernelCos(x, 0);
  }
  let n: number, y0: number, y1: number;
  if (x < PIO34) {
    n = 1;
    let z = x - PIO2_1;
    if (x < NPIO2_LO[0] || x >= NPIO2_HI[0]) {
      y0 = z - PIO2_1T;
      y1 = (z - y0) - PIO2_1T;
    } else {
      // x near π/2: 33 + 33 + 53 bits of π/2.
      z -= PIO2_2;
      y0 = z - PIO2_2T;
      y1 = (z - y0) - PIO2_2T;
    }
  } else {
    n = (x * INVPIO2 + 0.5) | 0;
    let r = x - n * PIO2_1;
    let w = n * PIO2_1T;
    y0 = r - w;
    if (x >= NPIO2_LO[n - 1] && x < NPIO2_HI[n - 1]) {
      // Cancellation may have eaten bits: redo with more of π/2 while y0's exponent is far below x's
      // (fdlibm compares exponent fields: more than 16, then 49, apart).
      const big = x >= 4; // x's exponent: 2, else 1
      if (Math.abs(y0) < (big ? 1 / 16384 : 1 / 32768)) {
        let t = r;
        w = n * PIO2_2;
        r = t - w;
        w = n * PIO2_2T - ((t - r) - w);
        y0 = r - w;
        if (Math.abs(y0) < (big ? 1 / 140737488355328 : 1 / 281474976710656)) { // 2⁻⁴⁷, 2⁻⁴⁸
          t = r;
          w = n * PIO2_3;
          r = t - w;
          w = n * PIO2_3T - ((t - r) - w);
          y0 = r - w;
        }
      }
    }
    y1 = (r - y0) - w;
  }
  const s = kernelSin(y0, y1, true), c = kernelCos(y0, y1);
  switch (n & 3) {
    case 0: sinOut[0] = s; return c;
    case 1: sinOut[0] = c; return -s;
    case 2: sinOut[0] = -s; return -c;
    default: sinOut[0] = -c; return s;
  }
}
