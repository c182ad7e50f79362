// The privacy accountant of DP-SGD: how much privacy (ε, δ) a training run spends.
//
// Each step of DP-SGD is the sampled Gaussian mechanism: a batch drawn by Poisson sampling (each row
// independently with probability q = batchSize / n), per-sample gradients clipped to norm C, and Gaussian
// noise of standard deviation σ·C added to their sum. Its Rényi differential privacy (RDP; Mironov,
// "Rényi Differential Privacy", CSF 2017) at order α is
//     ε_RDP(α) = log(A_α) / (α − 1),   A_α = E_{z ~ N(0, σ²)} [ ((1 − q) + q·e^{(2z − 1)/(2σ²)})^α ]
// (Mironov, Talwar & Zhang, "Rényi Differential Privacy of the Sampled Gaussian Mechanism", 2019):
// - for integer α, the binomial expansion A_α = Σ_{k=0}^{α} C(α, k)·(1 − q)^{α−k}·q^k·e^{(k² − k)/(2σ²)};
// - for fractional α, their two convergent series with the generalized binomial coefficients and
//   erfc terms (split at z₀ = σ²·ln(1/q − 1) + ½).
// RDP composes by addition over steps, and converts to (ε, δ)-DP by the classic bound (Mironov 2017,
// Proposition 3): ε = min over α of [steps·ε_RDP(α) + log(1/δ)/(α − 1)]. The orders tried are 1.1–10.9
// by 0.1, 11–63, 64, 128, 256 and 512; the α that attains the minimum is returned too.
//
// Figures are checked against an independent computation (numerical integration of A_α with mpmath,
// test/fixtures/accountant_reference.py), including TensorFlow Privacy's MNIST tutorial setting
// (n = 60,000, batch 256, σ = 1.1, 60 epochs, δ = 1e-5: ε ≈ 3.0).
import { checkOptions } from '../core/validate.js';

export const ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 53 }, (_, i) => 11 + i),
  64, 128, 256, 512,
];

/** log(e^a + e^b), exact for −∞. */
function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** log(e^a − e^b) for a ≥ b. */
function logSub(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (b >= a) return -Infinity;
  return a + Math.log1p(-Math.exp(b - a));
}

/** log |C(α, k)| and its sign, for real α and integer k ≥ 0 (the generalized binomial coefficient). */
function logBinom(alpha: number, k: number): { log: number; sign: number } {
  // C(α, k) = Π_{j<k} (α − j) / k!: its sign is that of the product.
  let sign = 1, log = 0;
  for (let j = 0; j < k; j++) {
    const f = alpha - j;
    if (f === 0) return { log: -Infinity, sign: 0 };
    if (f < 0) sign = -sign;
    log += Math.log(Math.abs(f)) - Math.log(j + 1);
  }
  return { log, sign };
}

/**
 * log erfc(x): the series of erf for |x| < 0.5, a continued fraction (Lentz) for x ≥ 0.5 computed in log
 * form so it does not underflow for large x, and log(2 − erfc(−x)) for x ≤ −0.5.
 */
export function logErfc(x: number): number {
  if (x <= -0.5) return Math.log(2 - Math.exp(logErfc(-x)));
  if (x < 0.5) {
    // erf(x) = 2/√π Σ (−1)^n x^{2n+1} / (n!·(2n + 1))
    let term = x, s = x;
    for (let n = 1; n < 60; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      s += add;
      if (Math.abs(add) < 1e-17 * Math.abs(s)) break;
    }
    return Math.log(1 - (2 / Math.sqrt(Math.PI)) * s);
  }
  // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
  const tiny = 1e-300;
  let f = x, C = x, D = 0;
  for (let n = 1; n < 5000; n++) {
    const a = n / 2;
    D = x + a * D;
    D = Math.abs(D) < tiny ? tiny : D;
    C = x + a / C;
    C = Math.abs(C) < tiny ? tiny : C;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - 0.5 * Math.log(Math.PI) - Math.log(f);
}

/** log A_α of the Poisson-sampled Gaussian mechanism (sampling rate q, noise multiplier σ). */
export function logA(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  if (q === 1) return (alpha * (alpha - 1)) / (2 * sigma * sigma);
  const lq = Math.log(q), l1q = Math.log1p(-q), s2 = 2 * sigma * sigma;
  if (Number.isInteger(alpha)) {
    let acc = -Infinity;
    for (let k = 0; k <= alpha; k++) acc = logAdd(acc, logBinom(alpha, k).log + (alpha - k) * l1q + k * lq + (k * k - k) / s2);
    return acc;
  }
  // Fractional α: A = Σ_i C(α, i)·[q^i (1−q)^{α−i} e^{(i²−i)/2σ²}·½erfc((i − z₀)/(√2σ))
  //                            + q^{α−i} (1−q)^i e^{((α−i)²−(α−i))/2σ²}·½erfc((z₀ − (α − i))/(√2σ))],
  // terms of alternating sign past i > α, summed in log space until they no longer matter.
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  let pos = -Infinity, neg = -Infinity;
  // C(α, i) as a running product: C(α, i + 1) = C(α, i)·(α − i)/(i + 1).
  let bLog = 0, bSign = 1;
  for (let i = 0; i < 10_000; i++) {
    if (i > 0) {
      const f = alpha - (i - 1);
      if (f < 0) bSign = -bSign;
      bLog += Math.log(Math.abs(f)) - Math.log(i);
    }
    const j = alpha - i;
    const t0 = bLog + i * lq + j * l1q + (i * i - i) / s2 + Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma));
    const t1 = bLog + j * lq + i * l1q + (j * j - j) / s2 + Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    const t = logAdd(t0, t1);
    if (bSign > 0) pos = logAdd(pos, t);
    else neg = logAdd(neg, t);
    if (i > alpha && t < Math.max(pos, neg) - 40) break;
  }
  return logSub(pos, neg);
}

/** RDP of one step at order α. */
export function rdpStep(q: number, sigma: number, alpha: number): number {
  if (sigma === 0) return Infinity;
  return logA(q, sigma, alpha) / (alpha - 1);
}

/** The per-step RDP at every order of ORDERS, for (q, σ). */
function rdpCurve(q: number, sigma: number): Float64Array {
  return Float64Array.from(ORDERS, (a) => rdpStep(q, sigma, a));
}

// RDP curves of recent (q, σ): q and σ stay fixed through a fit, which asks for ε after every epoch, and one
// curve costs ~15 ms (the fractional orders' series of erfc terms), against microseconds for the minimum over
// orders. A few entries suffice (one fit's setting, or a handful being compared); the oldest goes first.
const curves = new Map<string, Float64Array>();
const CURVES_KEPT = 8;

function memoCurve(q: number, sigma: number): Float64Array {
  const key = `${q}:${sigma}`;
  let c = curves.get(key);
  if (!c) {
    c = rdpCurve(q, sigma);
    if (curves.size >= CURVES_KEPT) curves.delete(curves.keys().next().value!);
    curves.set(key, c);
  }
  return c;
}

/** The classic RDP → (ε, δ) conversion of `steps` steps of the per-step curve `rdp`. */
function convert(rdp: Float64Array, steps: number, delta: number): { epsilon: number; order: number } {
  let best = { epsilon: Infinity, order: NaN };
  for (let j = 0; j < ORDERS.length; j++) {
    const a = ORDERS[j];
    const e = steps * rdp[j] + Math.log(1 / delta) / (a - 1);
    if (e < best.epsilon) best = { epsilon: e, order: a };
  }
  return best;
}

/**
 * (ε, the best order) of `steps` steps at (q, σ) for δ, by the classic RDP → (ε, δ) conversion. The
 * per-step curve is memoised per (q, σ); `cache: false` computes it afresh (noiseFor's bisection, whose σ
 * are each asked once, would only crowd out the curves worth keeping).
 */
export function epsilonOf(q: number, sigma: number, steps: number, delta: number, cache = true): { epsilon: number; order: number } {
  return convert(cache ? memoCurve(q, sigma) : rdpCurve(q, sigma), steps, delta);
}

/** What privacy.epsilon needs to know of a training run. */
export interface AccountingOptions {
  /** Rows of the training set. */
  n: number;
  /** Expected rows per step (Poisson sampling: each row is in a step's batch with probability batchSize / n). */
  batchSize: number;
  /** σ: the noise's standard deviation over the clipping norm. */
  noiseMultiplier: number;
  /**
   * Training length in epochs, counted as TensorFlow Privacy counts them: steps = ⌈epochs · n / batchSize⌉.
   * fit() runs ⌈n / batchSize⌉ steps per epoch, a few more: for a fit's exact figure give
   * steps = epochs · ⌈n / batchSize⌉ (or pass targetEpsilon to fit, which does). Give this or steps.
   */
  epochs?: number;
  /** Training length in steps (batches); give this or epochs. */
  steps?: number;
  /** δ of (ε, δ)-DP: the chance the guarantee fails; take it well below 1/n (1e-5 is customary). */
  delta: number;
}

function checkCommon(o: Record<string, unknown>, op: string): { n: number; batchSize: number; delta: number } {
  const int = (k: string) => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${op}: ${k} must be a positive integer, got ${String(v)}.`);
    return v;
  };
  const n = int('n'), batchSize = int('batchSize');
  if (batchSize > n) throw new RangeError(`${op}: batchSize ${batchSize} is larger than the ${n} rows; the sampling rate batchSize / n must be at most 1.`);
  const delta = o.delta;
  if (typeof delta !== 'number' || !(delta > 0 && delta < 1))
    throw new RangeError(`${op}: delta must be in (0, 1), well below 1/n (1e-5 is customary), got ${String(delta)}.`);
  if (delta >= 1 / n) throw new RangeError(`${op}: delta ${delta} is not below 1/n = ${1 / n}: a mechanism that publishes one row in full meets such a δ; take δ < 1/n (e.g. ${(0.1 / n).toPrecision(1)}).`);
  return { n, batchSize, delta };
}

function stepsOf(o: Record<string, unknown>, n: number, batchSize: number, op: string): number {
  if ((o.epochs === undefined) === (o.steps === undefined)) throw new TypeError(`${op}: give epochs or steps (one of them).`);
  if (o.steps !== undefined) {
    if (typeof o.steps !== 'number' || !Number.isInteger(o.steps) || o.steps < 0) throw new RangeError(`${op}: steps must be an integer ≥ 0, got ${String(o.steps)}.`);
    return o.steps;
  }
  if (typeof o.epochs !== 'number' || !(o.epochs >= 0) || !Number.isFinite(o.epochs)) throw new RangeError(`${op}: epochs must be a finite number ≥ 0, got ${String(o.epochs)}.`);
  return Math.ceil((o.epochs * n) / batchSize);
}

/**
 * The ε that DP-SGD spends: `steps` (or epochs·n/batchSize) Poisson-sampled steps of noise multiplier σ,
 * for the given δ. Returns ε and the Rényi order that gave it.
 */
export function epsilon(options: AccountingOptions): { epsilon: number; order: number; steps: number } {
  const op = 'privacy.epsilon';
  const o = checkOptions(options, ['n', 'batchSize', 'noiseMultiplier', 'epochs', 'steps', 'delta'], op);
  const { n, batchSize, delta } = checkCommon(o, op);
  const sigma = o.noiseMultiplier;
  if (typeof sigma !== 'number' || !(sigma >= 0) || !Number.isFinite(sigma)) throw new RangeError(`${op}: noiseMultiplier must be a finite number ≥ 0, got ${String(sigma)}.`);
  const steps = stepsOf(o, n, batchSize, op);
  if (steps === 0) return { epsilon: 0, order: NaN, steps };
  return { ...epsilonOf(batchSize / n, sigma, steps, delta), steps };
}

/**
 * The smallest noise multiplier σ (within 0.1%) for which training spends at most targetEpsilon, by
 * bisection on σ (ε falls as σ grows). `epochs` counts steps as privacy.epsilon does; to choose σ for a
 * fit() of E epochs give steps: E · ⌈n / batchSize⌉, or let fit choose it (privacy.targetEpsilon).
 */
export function noiseFor(options: { targetEpsilon: number; delta: number; n: number; batchSize: number; epochs?: number; steps?: number }): number {
  const op = 'privacy.noiseFor';
  const o = checkOptions(options, ['targetEpsilon', 'delta', 'n', 'batchSize', 'epochs', 'steps'], op);
  const { n, batchSize, delta } = checkCommon(o, op);
  const target = o.targetEpsilon;
  if (typeof target !== 'number' || !(target > 0) || !Number.isFinite(target)) throw new RangeError(`${op}: targetEpsilon must be a positive finite number, got ${String(target)}.`);
  const steps = stepsOf(o, n, batchSize, op);
  const q = batchSize / n;
  const eps = (s: number) => epsilonOf(q, s, steps, delta, false).epsilon;
  let lo = 0.01, hi = 1;
  while (eps(hi) > target) {
    hi *= 2;
    if (hi > 1e4) throw new RangeError(`${op}: no noise multiplier up to 10,000 reaches ε = ${target} over ${steps} steps at δ = ${delta}; train fewer steps, take a larger ε, or sample smaller batches.`);
  }
  if (eps(lo) <= target) return lo;
  while (hi - lo > 1e-3 * hi) {
    const mid = (lo + hi) / 2;
    if (eps(mid) > target) lo = mid;
    else hi = mid;
  }
  return hi;
}
