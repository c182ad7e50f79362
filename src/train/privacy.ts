// Differentially private training (DP-SGD; Abadi et al., "Deep Learning with Differential Privacy",
// CCS 2016): each step clips every sample's gradient to norm C, sums them, adds Gaussian noise
// N(0, σ²C²) and divides by the expected batch size; batches are drawn by Poisson sampling, which the
// accountant (accountant.ts) analyses.
//
// Per-sample clipping without per-sample gradients ("ghost clipping"; Goodfellow 2015, Lee & Kifer
// 2021, Li et al. 2022): a dense layer's per-sample weight gradient is the outer product xᵢᵀ·δᵢ of its
// input row and the gradient at its pre-activation, so its norm is ‖xᵢ‖·‖δᵢ‖ (and ‖δᵢ‖ for the bias).
// During a private step's backward pass the dense ops hand x and δ to a sink (engine.perSample) instead
// of summing over rows; the sink adds up every layer's squared norms per sample, forms the clip factors
// cᵢ = min(1, C/(‖gᵢ‖ + 10⁻⁶)), and computes each clipped sum as one gemm xᵀ·(c ⊙ δ). So a private step
// costs about what an ordinary one does, plus row norms and the noise. All of it is ops, recorded and
// replayed like any step (the noise's counter moves on with every replay).
import { type PerSampleSink } from '../core/engine.js';
import type { Rng } from '../core/random.js';
import { Tensor } from '../core/tensor.js';
import { checkOptions, show } from '../core/validate.js';
import { hash32 } from '../backend/math.js';
import { add, div, minimum, mul, scale } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { sum, sumSquares } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import { sqrt } from '../ops/unary.js';
import { backend } from '../ops/util.js';
import { epsilonOf, noiseFor } from './accountant.js';

/** fit's privacy option. */
export interface PrivacyOptions {
  /** C: every sample's gradient (over the whole model) is clipped to this L2 norm. Opacus: max_grad_norm. */
  maxGradNorm: number;
  /** σ: the noise's standard deviation over C. Give it, or targetEpsilon. Opacus: noise_multiplier. */
  noiseMultiplier?: number;
  /** The ε to spend over the whole fit(): σ is then the smallest that spends at most this (privacy.noiseFor). */
  targetEpsilon?: number;
  /** δ of (ε, δ)-DP (default 1e-5); must be below 1/n. */
  delta?: number;
  /**
   * 'poisson' (default): each row joins each step's batch independently with probability batchSize/n,
   * what the accountant's guarantee assumes. 'shuffle': the ordinary shuffled batches; ε is then reported
   * by the same accountant, which is not a proven bound for shuffling.
   */
  sampling?: 'poisson' | 'shuffle';
}

/** The privacy option with its defaults, σ resolved. */
export interface Privacy {
  clip: number;
  sigma: number;
  delta: number;
  sampling: 'poisson' | 'shuffle';
  /** Sampling rate q = batchSize / n. */
  q: number;
}

const KEYS = ['maxGradNorm', 'noiseMultiplier', 'targetEpsilon', 'delta', 'sampling'];

/** Checks fit's privacy option against the run (training rows, batch size, epochs) before anything is trained. */
export function checkPrivacy(v: unknown, n: number, batchSize: number, epochs: number): Privacy {
  const op = 'fit';
  const o = checkOptions(v, KEYS, op, 'privacy');
  const clip = o.maxGradNorm;
  if (typeof clip !== 'number' || !(clip > 0))
    throw new RangeError(`${op}: privacy.maxGradNorm must be a positive number (each sample's gradient is clipped to it; 1 is a common start; Infinity turns clipping off), got ${show(clip)}.`);
  const delta = o.delta ?? 1e-5;
  if (typeof delta !== 'number' || !(delta > 0 && delta < 1)) throw new RangeError(`${op}: privacy.delta must be in (0, 1), got ${show(delta)}.`);
  if (delta >= 1 / n)
    throw new RangeError(`${op}: privacy.delta ${delta} is not below 1/n = ${+(1 / n).toPrecision(3)} for the ${n} training rows: such a δ allows publishing a row outright; take δ < 1/n (e.g. ${(0.1 / n).toPrecision(1)}).`);
  const sampling = o.sampling ?? 'poisson';
  if (sampling !== 'poisson' && sampling !== 'shuffle') throw new RangeError(`${op}: privacy.sampling must be 'poisson' or 'shuffle', got ${show(sampling)}.`);
  if (batchSize > n) throw new RangeError(`${op}: privacy needs batchSize ≤ the ${n} training rows (the sampling rate batchSize/n is a probability), got ${batchSize}.`);
  const q = batchSize / n;
  if ((o.noiseMultiplier === undefined) === (o.targetEpsilon === undefined))
    throw new TypeError(`${op}: privacy needs noiseMultiplier (σ) or targetEpsilon (σ is then chosen to spend it), not ${o.noiseMultiplier === undefined ? 'neither' : 'both'}.`);
  let sigma: number;
  if (o.noiseMultiplier !== undefined) {
    sigma = o.noiseMultiplier;
    if (typeof sigma !== 'number' || !(sigma >= 0) || !Number.isFinite(sigma)) throw new RangeError(`${op}: privacy.noiseMultiplier must be a finite number ≥ 0, got ${show(sigma)}.`);
  } else {
    const t = o.targetEpsilon;
    if (typeof t !== 'number' || !(t > 0) || !Number.isFinite(t)) throw new RangeError(`${op}: privacy.targetEpsilon must be a positive finite number, got ${show(t)}.`);
    if (!Number.isFinite(clip)) throw new RangeError(`${op}: privacy.targetEpsilon needs a finite maxGradNorm: the noise is σ·C.`);
    sigma = noiseFor({ targetEpsilon: t, delta, n, batchSize, steps: epochs * Math.ceil(n / batchSize) });
  }
  return { clip, sigma, delta, sampling, q };
}

/** ε spent after `steps` private steps. */
export function spent(p: Privacy, steps: number): number {
  if (steps === 0) return 0;
  if (p.sigma === 0 || !Number.isFinite(p.clip)) return Infinity;
  return epsilonOf(p.q, p.sigma, steps, p.delta).epsilon;
}

/**
 * A Poisson sample of the n rows (each with probability q), in ascending order, into `out` (grown as
 * needed); returns the count. Gaps between chosen rows are geometric, so the cost is O(rows drawn).
 */
export function poissonRows(r: Rng, n: number, q: number, out: { rows: Float32Array }): number {
  let k = 0;
  if (q >= 1) {
    if (out.rows.length < n) out.rows = new Float32Array(n);
    for (let i = 0; i < n; i++) out.rows[i] = i;
    return n;
  }
  const lq = Math.log1p(-q);
  for (let i = -1; ; ) {
    // 1 − u in (0, 1]: log of it is finite.
    i += 1 + Math.floor(Math.log(1 - r.uniform()) / lq);
    if (i >= n) return k;
    if (k === out.rows.length) {
      const grown = new Float32Array(Math.max(16, 2 * k));
      grown.set(out.rows);
      out.rows = grown;
    }
    out.rows[k++] = i;
  }
}

/**
 * Rows a private step of `rows` sampled rows runs on (padding rows are masked out): at least 16, rounded up
 * to a multiple of g, the largest power of two with g² ≤ rows (at least 8). A padding row costs what a
 * sampled one does, and each size is a recorded program of its own (with its own gradients); Poisson batch
 * sizes spread by about √batch, so this keeps the padding near g/2 rows (3% at batch 128, where multiples of
 * 16 padded 6%) and the sizes a fit meets to about ±4σ/g ≈ 8–16. g only grows with rows and its multiples
 * nest, so bucket is monotone.
 */
export function bucket(rows: number): number {
  let g = 8;
  while (4 * g * g <= rows) g *= 2;
  return Math.max(16, Math.ceil(rows / g) * g);
}

interface Part {
  x: Tensor;
  dz: Tensor;
  w: number;
  b: number;
}

/** Collects the dense ops' parts during a private step's backward pass, then clips, sums and noises. */
export class GhostSink implements PerSampleSink {
  private readonly parts: Part[] = [];
  private readonly retained: Tensor[] = [];

  constructor(private readonly params: readonly Tensor[]) {}

  dense(x: Tensor, dz: Tensor, w: Tensor, bias: Tensor | null): void {
    const find = (t: Tensor | null) => (t ? this.params.findIndex((p) => p.storage === t.storage) : -1);
    const wi = find(w), bi = find(bias);
    if (wi < 0 && bi < 0) return; // a frozen layer: nothing to clip
    // The rule's tensors die with its tidy scope; the sink holds the storage until the step is done.
    const keep = (t: Tensor) => {
      const k = new Tensor(t.shape, t.storage!, false);
      this.retained.push(k);
      return k;
    };
    this.parts.push({ x: keep(x), dz: keep(dz), w: wi, b: bi });
  }

  /**
   * The clipped, noised gradient of every parameter (a fresh tensor each). dz holds the gradient of the
   * objective Σ maskᵢ·lossᵢ / D, so a sample's true gradient norm is D times what its rows give.
   */
  finish(p: Privacy, D: number, seed: number, ctx: { offset: number }, rows: number): Tensor[] {
    const grads: (Tensor | null)[] = this.params.map(() => null);
    const put = (i: number, g: Tensor) => {
      grads[i] = grads[i] ? add(grads[i]!, g) : g;
    };
    let factor: Tensor | null = null;
    if (Number.isFinite(p.clip)) {
      let sq: Tensor | null = null;
      for (const part of this.parts) {
        const d2 = sumSquares(part.dz, 1);
        let c = part.w >= 0 ? mul(sumSquares(part.x, 1), d2) : null;
        if (part.b >= 0) c = c ? add(c, d2) : d2;
        sq = sq ? add(sq, c!) : c;
      }
      const norm = scale(sqrt(sq!), D);
      factor = reshape(minimum(div(p.clip, add(norm, 1e-6)), 1), [rows, 1]);
    }
    for (const part of this.parts) {
      const dz = factor ? mul(part.dz, factor) : part.dz;
      if (part.w >= 0) put(part.w, matmul(part.x, dz, { transposeA: true }));
      if (part.b >= 0) put(part.b, reshape(sum(dz, 0), this.params[part.b].shape));
    }
    const be = backend();
    return grads.map((g, i) => {
      if (!g) throw new Error(`simdnn internal error: parameter ${i} got no gradient in a private step.`);
      if (p.sigma > 0) {
        be.addNormal(g.size, g.handle('fit'), (p.sigma * p.clip) / D, seed, ctx.offset);
        ctx.offset = (ctx.offset + g.size) >>> 0;
      }
      return g;
    });
  }

  dispose(): void {
    for (const t of this.retained) t.dispose();
    this.retained.length = 0;
    this.parts.length = 0;
  }
}

/** The seed of a run's noise stream, apart from its dropout stream. */
export function noiseSeed(seed: number): number {
  return hash32((seed ^ 0x2545f491) >>> 0);
}

