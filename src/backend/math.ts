// Scalar float64 reference math shared by the js backend (the oracle) and the ops layer.

/** erf with |error| < 1.2e-7 (W. H. Press et al., Chebyshev fit to erfc): below float32 resolution. */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  const e = 1 - r;
  return x >= 0 ? e : -e;
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

/** f(x) for a unary code (see codes.ts). */
export function unaryFn(op: number, x: number, alpha: number): number {
  switch (op) {
    case 0: return x;
    case 1: return x > 0 || x !== x ? x : 0; // NaN propagates, as torch.relu
    case 2: return x > 0 ? x : alpha * x;
    case 3: return x > 0 ? x : alpha * Math.expm1(x);
    case 4: return x === -Infinity ? -0 : x === Infinity ? x : 0.5 * x * (1 + erf(x * SQRT1_2));
    case 5: return sigmoid(x);
    case 6: return Math.tanh(x);
    case 7: return Math.exp(x);
    case 8: return Math.log(x);
    case 9: return Math.sqrt(x);
    case 10: return -x;
    case 11: return Math.abs(x);
    case 12: return x * x;
    case 13: return softplus(x);
    case 14: return 1 / x;
    case 15: return x > 0 ? 1 : x < 0 ? -1 : x; // keeps ±0 and NaN
    default: throw new Error(`unknown unary op code ${op}`);
  }
}

/** f'(x) given x and y = f(x). Conventions follow PyTorch (relu'(0) = 0, abs'(0) = 0). */
export function unaryDeriv(op: number, x: number, y: number, alpha: number): number {
  switch (op) {
    case 0: return 1;
    case 1: return x > 0 ? 1 : 0;
    case 2: return x > 0 ? 1 : alpha;
    case 3: return x > 0 ? 1 : alpha * Math.exp(x);
    case 4: return 0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    // From the output, as PyTorch: σ' = y(1 − y), tanh' = (1 − y)(1 + y).
    case 5: return y * (1 - y);
    case 6: return (1 - y) * (1 + y);
    case 7: return Math.exp(x);
    case 8: return 1 / x;
    case 9: return 0.5 / Math.sqrt(x);
    case 10: return -1;
    case 11: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case 12: return 2 * x;
    case 13: return sigmoid(x);
    case 14: return -1 / (x * x);
    case 15: return 0;
    default: throw new Error(`unknown unary op code ${op}`);
  }
}

export function binaryFn(op: number, a: number, b: number): number {
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b);
    case 5: return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b);
    case 6: return a > b ? 1 : 0;
    case 7: return a >= b ? 1 : 0;
    case 8: return a === b ? 1 : 0;
    case 9: return Math.pow(a, b);
    default: throw new Error(`unknown binary op code ${op}`);
  }
}

/** A 32-bit integer hash with good avalanche (lowbias32), the basis of the counter-based dropout RNG. */
export function hash32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The dropout keep test for element i: a uniform u in [0, 1) with 24 random bits from
 * hash32(hash32(seed) ^ hash32(offset + i)); kept when u < keep. Identical on every backend.
 */
export function dropoutKeep(seed: number, offset: number, i: number, keep: number): boolean {
  const h = hash32((hash32(seed >>> 0) ^ hash32((offset + i) >>> 0)) >>> 0);
  return (h >>> 8) * 2 ** -24 < Math.fround(keep);
}
