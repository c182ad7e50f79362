// Scalar float64 reference math shared by the js backend (the oracle) and the ops layer.
import { BINARY_NAMES, UNARY_NAMES, type BinaryName, type UnaryName } from '../core/optable.js';

/**
 * erfc(z) for z ≥ 0 with relative error < 1.2e-7 (W. H. Press et al., Chebyshev fit), below float32
 * resolution; computed directly, so the tail keeps its relative accuracy (1 − erf(z) would cancel to 0).
 */
function erfcPos(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  return (
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  );
}

/** Φ(x), the standard normal CDF: 1 − erfc(−x/√2)/2 above 0, erfc(−x/√2)/2 below, accurate in the lower tail. */
function normalCdf(x: number): number {
  const h = 0.5 * erfcPos(Math.abs(x) * SQRT1_2);
  return x >= 0 ? 1 - h : h;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export function softplus(x: number): number {
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large |x|.
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

type UnaryRef = {
  /** f(x) in float64; alpha is the op's parameter (leakyRelu's slope, elu's alpha). */
  f(x: number, alpha: number): number;
  /** f'(x), reading only what the op table says the derivative reads (x, y = f(x), or neither). */
  d(x: number, y: number, alpha: number): number;
};

/**
 * The float64 reference of every unary op of the table (src/core/optable.ts), the oracle the kernels are
 * tested against. The mapped type makes a table entry without a reference a type error. Derivative
 * conventions follow PyTorch (relu'(0) = 0, abs'(0) = 0; sigmoid, tanh, exp, sqrt and reciprocal from y).
 */
export const UNARY_REF: { readonly [K in UnaryName]: UnaryRef } = {
  identity: { f: (x) => x, d: () => 1 },
  relu: { f: (x) => (x > 0 || x !== x ? x : 0), d: (x) => (x > 0 ? 1 : 0) }, // NaN propagates, as torch.relu
  leakyRelu: { f: (x, a) => (x > 0 ? x : a * x), d: (x, _y, a) => (x > 0 ? 1 : a) },
  elu: { f: (x, a) => (x > 0 ? x : a * Math.expm1(x)), d: (x, _y, a) => (x > 0 ? 1 : a * Math.exp(x)) },
  gelu: {
    f: (x) => (x === -Infinity ? -0 : x === Infinity ? x : x * normalCdf(x)),
    d: (x) => normalCdf(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
  },
  sigmoid: { f: sigmoid, d: (_x, y) => y * (1 - y) },
  tanh: { f: Math.tanh, d: (_x, y) => (1 - y) * (1 + y) },
  exp: { f: Math.exp, d: (_x, y) => y },
  log: { f: Math.log, d: (x) => 1 / x },
  sqrt: { f: Math.sqrt, d: (_x, y) => 0.5 / y },
  neg: { f: (x) => -x, d: () => -1 },
  abs: { f: Math.abs, d: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0) },
  square: { f: (x) => x * x, d: (x) => 2 * x },
  softplus: { f: softplus, d: (x) => sigmoid(x) },
  reciprocal: { f: (x) => 1 / x, d: (_x, y) => -y * y },
  sign: { f: (x) => (x > 0 ? 1 : x < 0 ? -1 : x), d: () => 0 }, // keeps ±0 and NaN
  // silu' = σ(x)·(1 + x·(1 − σ(x))), with 1 − σ(x) as σ(−x): no cancellation for large x.
  silu: { f: (x) => x * sigmoid(x), d: (x) => sigmoid(x) * (1 + x * sigmoid(-x)) },
};

/** The references by code (UNARY_NAMES order), for the js backend's loops. */
export const UNARY_REF_BY_CODE: readonly UnaryRef[] = UNARY_NAMES.map((k) => UNARY_REF[k]);

/** a ⊕ b in float64 for every binary op of the table. */
export const BINARY_REF: { readonly [K in BinaryName]: (a: number, b: number) => number } = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
  greater: (a, b) => (a > b ? 1 : 0),
  greaterEqual: (a, b) => (a >= b ? 1 : 0),
  equal: (a, b) => (a === b ? 1 : 0),
  pow: Math.pow,
};

export const BINARY_REF_BY_CODE: readonly ((a: number, b: number) => number)[] = BINARY_NAMES.map((k) => BINARY_REF[k]);

/** A 32-bit integer hash with good avalanche (lowbias32), the basis of the counter-based dropout RNG. */
export function hash32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * cos(2πt) and sin(2πt)/t on [−½, ½] as polynomials in s = t²: their Taylor series to the (2πt)^20 and
 * (2πt)^21 terms, whose remainders are below π^22/22! ≈ 8e-11 and π^23/23! ≈ 2e-11 there. The WGSL kernel
 * evaluates them in float32 by Horner's rule (the wasm kernel folds t into [−¼, ¼] first and uses shorter
 * polynomials there: assembly/train.ts).
 */
export const COS2PI: readonly number[] = Array.from({ length: 11 }, (_, k) => ((-1) ** k * (2 * Math.PI) ** (2 * k)) / factorial(2 * k));
export const SIN2PI: readonly number[] = Array.from({ length: 11 }, (_, k) => ((-1) ** k * (2 * Math.PI) ** (2 * k + 1)) / factorial(2 * k + 1));

function factorial(n: number): number {
  let f = 1;
  for (let j = 2; j <= n; j++) f *= j;
  return f;
}

/**
 * Gaussian noise of the counter-based stream `key` (= hash32(seed)) at element counter e, by Box–Muller:
 * the pair p = e >>> 1 draws h1 = hash32(key ^ hash32(p)), h2 = hash32(h1 ^ 0x9e3779b9); u1 = h1·2^-32 in
 * (0, 1) (2^-33 for h1 = 0), t = 24 bits of h2 as a uniform in [−½, ½); r = √(−2 ln u1); the even element
 * of the pair is r·cos(2πt), the odd one r·sin(2πt) (two independent normals per draw). u1 ≥ 2^-33
 * bounds |z| by 6.8: the tails beyond are cut (probability below 1e-11 per draw). Pure, so any thread or
 * the GPU draws any slice of the same stream. This is the float64 reference; kernels compute it in
 * float32 (within a few 1e-7·|z|).
 */
export function normalAt(key: number, e: number): number {
  const p = (e >>> 0) >>> 1;
  const h1 = hash32((key ^ hash32(p)) >>> 0);
  const h2 = hash32((h1 ^ 0x9e3779b9) >>> 0);
  const u1 = h1 === 0 ? 2 ** -33 : h1 * 2 ** -32;
  const t = (h2 >>> 8) * 2 ** -24 - 0.5;
  const r = Math.sqrt(-2 * Math.log(u1));
  return (e & 1) === 0 ? r * Math.cos(2 * Math.PI * t) : r * Math.sin(2 * Math.PI * t);
}

/**
 * The dropout keep test for element i: a uniform u in [0, 1) with 24 random bits from
 * hash32(hash32(seed) ^ hash32(offset + i)); kept when u < keep. Identical on every backend.
 */
export function dropoutKeep(seed: number, offset: number, i: number, keep: number): boolean {
  const h = hash32((hash32(seed >>> 0) ^ hash32((offset + i) >>> 0)) >>> 0);
  return (h >>> 8) * 2 ** -24 < Math.fround(keep);
}
