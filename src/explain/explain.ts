// Explanations of a model's predictions: which input features pushed an output up or down.
//
// - Integrated gradients (Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep Networks", ICML
//   2017): attribution_i = (x_i − x'_i)·∫₀¹ ∂f(x' + α(x − x'))/∂x_i dα from a baseline x'. They add up
//   to f(x) − f(x') (completeness); the gap left by the quadrature is reported per row. All the points
//   of a row's path run as one batch: one forward and one backward pass.
// - 'gradient' (saliency, ∂f/∂x) and 'gradientXInput' (x ⊙ ∂f/∂x): one forward and backward.
// - 'permutation' importance (Breiman 2001; scikit-learn's permutation_importance): how much a metric
//   drops when one column is shuffled, over seeded repeats. Needs labels; uses only predict(), so it
//   explains any model on any backend.
//
// Everything is in the units of the raw input features: the model's scaler is part of the function
// differentiated, so a gradient is ∂f/∂x of the raw x. (Integrated gradients are the same in raw or
// scaled units: the scale of a feature cancels between x − x' and the gradient.)
import { checkOptions } from '../core/validate.js';
import { noGrad, valueAndGrad } from '../autograd/api.js';
import { rng } from '../core/random.js';
import type { Sequential } from '../nn/model.js';
import { tensor, type TensorLike } from '../ops/creation.js';
import { add, mul, sub } from '../ops/elementwise.js';
import { exp, sigmoid } from '../ops/unary.js';
import { softmax, sum } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import { tidy } from '../core/scope.js';
import { Tensor } from '../core/tensor.js';

/** The attribution methods of explain(). */
export type ExplainMethod = 'integratedGradients' | 'gradient' | 'gradientXInput' | 'permutation';

/** The options of explain(). */
export interface ExplainOptions {
  /** Default 'integratedGradients'. */
  method?: ExplainMethod;
  /**
   * The output to explain: a class index for every row, or one per row. Default: the predicted class
   * of each row (argmax of the outputs); a single-output model (regression, binary) explains its output.
   */
  target?: number | ArrayLike<number>;
  /**
   * What f is: 'raw' (default) the model's outputs as they are (logits for a model trained with a
   * cross-entropy loss; values for regression), or 'probability' (softmax over the outputs; sigmoid for a
   * single output; the outputs themselves for a model that ends in a softmax or sigmoid, exp of a
   * logSoftmax).
   */
  output?: 'raw' | 'probability';
  /**
   * Integrated gradients' starting point, in raw feature units: 'zeros' (default) is zero in the model's
   * input space, after its scaler (for a standardized model: the training mean of every feature);
   * 'mean' is the training mean (a standard scaler's); or the values of one row (or one per row).
   */
  baseline?: 'zeros' | 'mean' | Tensor | ArrayLike<number> | TensorLike;
  /** Points on the path from the baseline to x (default 64). */
  steps?: number;
  /** The quadrature of the path integral: 'gaussLegendre' (default; exact for polynomials of degree 2·steps − 1) or 'trapezoid'. */
  rule?: 'gaussLegendre' | 'trapezoid';
  /** Permutation importance: the labels (class indices, or targets for regression) of x's rows. */
  y?: Tensor | TensorLike;
  /**
   * Permutation importance: the metric (default 'accuracy' for a classifier: more than one output, or
   * model.preprocessing.task 'classification'; else 'r2'). A one-output classifier's class is output > 0.5
   * after a sigmoid, > 0 for a logit (as predictClasses).
   */
  metric?: 'accuracy' | 'r2' | 'mse';
  /** Permutation importance: shuffles of each column (default 5). */
  repeats?: number;
  /** Permutation importance: seed of the shuffles (default 0). */
  seed?: number;
}

/** What explain() returns: one attribution per row and feature. */
export interface Explanation {
  /** The method used. */
  method: ExplainMethod;
  /** Rows explained and features per row. */
  rows: number;
  /** Features per row. */
  features: number;
  /** Feature names: the model's columns (model.preprocessing.columns), else 'x0', 'x1', …. */
  featureNames: string[];
  /**
   * [rows, features] row-major, in raw feature units: the attributions (integrated gradients,
   * gradient × input), or ∂f/∂x ('gradient'). For 'permutation', one row: the mean drop of the metric.
   */
  attributions: Float32Array;
  /** The output explained, per row. */
  targets: number[];
  /** f(x) per row (integrated gradients). */
  outputs?: Float64Array;
  /** f(baseline) per row (integrated gradients). */
  baselineOutputs?: Float64Array;
  /** |Σ attributions − (f(x) − f(baseline))| per row: how far the quadrature is from completeness. */
  gap?: Float64Array;
  /** Permutation importance: the metric on the data as it is, its name, and the std of the drop per feature. */
  permutation?: { metric: string; score: number; std: Float64Array; repeats: number };
  /** One row's attributions. */
  row(i: number): Float32Array;
  /** Features by mean |attribution| over the rows (the global ranking), largest first. */
  top(k?: number): { feature: string; index: number; value: number }[];
}

const KEYS = ['method', 'target', 'output', 'baseline', 'steps', 'rule', 'y', 'metric', 'repeats', 'seed'];
const METHODS: readonly ExplainMethod[] = ['integratedGradients', 'gradient', 'gradientXInput', 'permutation'];
/** Path points per gradient pass: rows × steps is split into passes of about this many points. */
const POINTS_PER_PASS = 4096;

/**
 * Attributions of the model's outputs to its input features, for each row of x (raw features, as
 * predict() takes them). See ExplainOptions for the methods; the README for the caveats (the baseline
 * chosen decides what "no signal" means; correlated features share credit).
 */
export async function explain(model: Sequential, x: Tensor | TensorLike, options: ExplainOptions = {}): Promise<Explanation> {
  const op = 'explain';
  model.check(op);
  checkOptions(options, KEYS, op);
  const method = options.method ?? 'integratedGradients';
  if (!METHODS.includes(method)) throw new RangeError(`${op}: unknown method '${String(method)}'; use one of ${METHODS.map((m) => `'${m}'`).join(', ')}.`);
  const output = options.output ?? 'raw';
  if (output !== 'raw' && output !== 'probability') throw new RangeError(`${op}: output must be 'raw' or 'probability', got ${String(output)}.`);
  const F = model.inputSize, K = model.outputSize;
  const values = await rowsOf(x, F, op);
  const n = values.length / F;
  if (n === 0) throw new RangeError(`${op}: x has no rows.`);
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i])) throw new RangeError(`${op}: x holds ${values[i]} at row ${Math.floor(i / F)}, column ${i % F}; explanations need finite features (clean the data as for predict).`);
  const names = model.preprocessing.columns?.length === F ? model.preprocessing.columns.slice() : Array.from({ length: F }, (_, i) => `x${i}`);
  if (method === 'permutation') return permutation(model, values, n, names, options);

  const targets = await targetsOf(model, values, n, K, options.target, op);
  const last = finalActivation(model);
  const f = (t: Tensor): Tensor => {
    const scaler = model.preprocessing.scaler;
    const out = model.forward(scaler ? scaler.transform(t) : t);
    if (output === 'raw' || last === 'softmax' || last === 'sigmoid') return out;
    if (last === 'logSoftmax') return exp(out);
    return K === 1 ? sigmoid(out) : softmax(out);
  };
  if (method === 'gradient' || method === 'gradientXInput') {
    const g = await gradients(f, values, n, F, K, targets);
    if (method === 'gradientXInput') for (let i = 0; i < g.length; i++) g[i] *= values[i];
    return result(method, n, F, names, g, targets, {});
  }
  return integratedGradients(model, f, values, n, F, K, targets, names, options);
}

/** The activation the model's outputs leave through: its last layer's (a fused one of a linear layer too). */
function finalActivation(model: Sequential): string | undefined {
  const c = model.layers[model.layers.length - 1].config() as { type: string; activation?: string };
  return c.type === 'activation' || c.type === 'linear' ? c.activation : undefined;
}

/** x as a Float32Array of n·F values (a tensor is read back: asynchronously where the backend must). */
async function rowsOf(x: Tensor | TensorLike, F: number, op: string): Promise<Float32Array> {
  let shape: readonly number[];
  let v: Float32Array;
  if (x instanceof Tensor) {
    x.handle(op);
    shape = x.shape;
    v = await x.data();
  } else if (x instanceof Float32Array && x.length === F) {
    shape = [1, F];
    v = x;
  } else {
    const t = tensor(x as TensorLike);
    try {
      shape = t.shape;
      v = await t.data();
    } finally {
      t.dispose();
    }
  }
  if (shape.length === 1 && shape[0] === F) shape = [1, F];
  if (shape.length !== 2 || shape[1] !== F)
    throw new RangeError(`${op}: the model takes ${F} feature${F === 1 ? '' : 's'} per row, got x of shape [${shape.join(', ')}]; give [rows, ${F}].`);
  return v;
}

/** The output explained for each row: as given (checked), else the predicted class (or output 0). */
async function targetsOf(model: Sequential, values: Float32Array, n: number, K: number, target: ExplainOptions['target'], op: string): Promise<number[]> {
  if (target !== undefined) {
    const list = typeof target === 'number' ? new Array<number>(n).fill(target) : Array.from(target as ArrayLike<number>);
    if (list.length !== n) throw new RangeError(`${op}: target gives ${list.length} classes for ${n} rows; give one for all rows or one per row.`);
    list.forEach((t, i) => {
      if (!Number.isInteger(t) || t < 0 || t >= K)
        throw new RangeError(`${op}: target ${t}${typeof target === 'number' ? '' : ` (row ${i})`} is not an output of the model (0..${K - 1}); give a class index below ${K}.`);
    });
    return list;
  }
  if (K === 1) return new Array<number>(n).fill(0);
  const x = tensor(values, [n, model.inputSize]);
  let p: Tensor;
  try {
    p = model.predict(x);
  } finally {
    x.dispose();
  }
  try {
    const out = await p.data();
    return Array.from({ length: n }, (_, r) => {
      let best = 0;
      for (let k = 1; k < K; k++) if (out[r * K + k] > out[r * K + best]) best = k;
      return best;
    });
  } finally {
    p.dispose();
  }
}

/** ∂f_target/∂x per row (n·F values), one forward and backward pass per chunk of rows. */
async function gradients(f: (t: Tensor) => Tensor, values: Float32Array, n: number, F: number, K: number, targets: number[]): Promise<Float32Array> {
  const out = new Float32Array(n * F);
  const chunk = POINTS_PER_PASS;
  for (let r0 = 0; r0 < n; r0 += chunk) {
    const rows = Math.min(chunk, n - r0);
    const sel = new Float32Array(rows * K);
    for (let r = 0; r < rows; r++) sel[r * K + targets[r0 + r]] = 1;
    const g = tidy(() => {
      const X = tensor(values.subarray(r0 * F, (r0 + rows) * F), [rows, F]);
      const S = tensor(sel, [rows, K]);
      const { value, grads } = valueAndGrad((t: Tensor) => sum(mul(f(t), S)))(X);
      value.dispose();
      return grads[0];
    });
    out.set(await readAsync(g), r0 * F);
  }
  return out;
}

async function readAsync(t: Tensor): Promise<Float32Array> {
  try {
    return await t.data();
  } finally {
    t.dispose();
  }
}

/** Quadratures computed so far, by rule and size: Newton's method costs O(m²) per call, ~1% of an IG of one row. */
const rules = new Map<string, { nodes: Float64Array; weights: Float64Array; alphas: Float32Array }>();
const RULES_KEPT = 8;

function cachedQuadrature(m: number, rule: 'gaussLegendre' | 'trapezoid'): { nodes: Float64Array; weights: Float64Array; alphas: Float32Array } {
  const key = `${rule}:${m}`;
  let q = rules.get(key);
  if (!q) {
    const { nodes, weights } = quadrature(m, rule);
    q = { nodes, weights, alphas: Float32Array.from(nodes) };
    if (rules.size >= RULES_KEPT) rules.delete(rules.keys().next().value!);
    rules.set(key, q);
  }
  return q;
}

/** Nodes and weights of a quadrature of ∫₀¹ over `m` points (new arrays on every call). */
export function quadrature(m: number, rule: 'gaussLegendre' | 'trapezoid'): { nodes: Float64Array; weights: Float64Array } {
  const nodes = new Float64Array(m), weights = new Float64Array(m);
  if (rule === 'trapezoid') {
    if (m === 1) {
      nodes[0] = 0.5;
      weights[0] = 1;
      return { nodes, weights };
    }
    for (let k = 0; k < m; k++) {
      nodes[k] = k / (m - 1);
      weights[k] = (k === 0 || k === m - 1 ? 0.5 : 1) / (m - 1);
    }
    return { nodes, weights };
  }
  // Gauss–Legendre on [-1, 1]: the roots of P_m by Newton's method from Chebyshev-like guesses, weights
  // 2/((1 − t²)·P_m'(t)²); then mapped onto [0, 1] (nodes (t + 1)/2, weights halved).
  for (let i = 0; i < m; i++) {
    let t = Math.cos((Math.PI * (i + 0.75)) / (m + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1, p1 = t;
      for (let k = 2; k <= m; k++) {
        const p2 = ((2 * k - 1) * t * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const pm = m === 1 ? t : p1, pm1 = m === 1 ? 1 : p0;
      dp = (m * (t * pm - pm1)) / (t * t - 1);
      const step = pm / dp;
      t -= step;
      if (Math.abs(step) < 1e-15) break;
    }
    nodes[m - 1 - i] = (t + 1) / 2;
    weights[m - 1 - i] = 1 / ((1 - t * t) * dp * dp);
  }
  return { nodes, weights };
}

async function integratedGradients(
  model: Sequential,
  f: (t: Tensor) => Tensor,
  values: Float32Array,
  n: number,
  F: number,
  K: number,
  targets: number[],
  names: string[],
  options: ExplainOptions,
): Promise<Explanation> {
  const op = 'explain';
  const steps = options.steps ?? 64;
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1 || steps > 100_000)
    throw new RangeError(`${op}: steps must be a positive integer (the points on the path; 64 is typical, more for a smaller completeness gap), got ${String(steps)}.`);
  const rule = options.rule ?? 'gaussLegendre';
  if (rule !== 'gaussLegendre' && rule !== 'trapezoid') throw new RangeError(`${op}: rule must be 'gaussLegendre' or 'trapezoid', got ${String(rule)}.`);
  const base = await baselineOf(model, options.baseline, n, F, op);
  const { weights, alphas } = cachedQuadrature(steps, rule);
  const attr = new Float32Array(n * F);
  const perPass = Math.max(1, Math.floor(POINTS_PER_PASS / steps));
  const fx = new Float64Array(n), fb = new Float64Array(n);
  for (let r0 = 0; r0 < n; r0 += perPass) {
    const rows = Math.min(perPass, n - r0);
    // The row's path as one batch [rows·steps, F], each point's target output weighted by its quadrature
    // weight, so one backward pass gives Σ_k w_k ∂f(x_k)/∂x_k summed over the path's points.
    const sel = new Float32Array(rows * steps * K);
    for (let r = 0; r < rows; r++) for (let k = 0; k < steps; k++) sel[(r * steps + k) * K + targets[r0 + r]] = weights[k];
    const xs = values.subarray(r0 * F, (r0 + rows) * F);
    const bs = base.subarray(r0 * F, (r0 + rows) * F);
    const [g, ends] = tidy(() => {
      const X = tensor(xs, [rows, 1, F]);
      const B = tensor(bs, [rows, 1, F]);
      const alpha = tensor(alphas, [1, steps, 1]);
      const path = reshape(add(B, mul(alpha, sub(X, B))), [rows * steps, F]);
      const S = tensor(sel, [rows * steps, K]);
      const { value, grads } = valueAndGrad((t: Tensor) => sum(mul(f(t), S)))(path);
      value.dispose();
      const summed = sum(reshape(grads[0], [rows, steps, F]), 1);
      // f at both ends of each path, for the completeness gap.
      const both = new Float32Array(2 * rows * F);
      both.set(xs);
      both.set(bs, rows * F);
      const endsOut = noGrad(() => f(tensor(both, [2 * rows, F])));
      return [summed, endsOut];
    });
    const gv = await readAsync(g), ev = await readAsync(ends);
    for (let r = 0; r < rows; r++) {
      const i = r0 + r, t = targets[i];
      for (let j = 0; j < F; j++) attr[i * F + j] = (values[i * F + j] - base[i * F + j]) * gv[r * F + j];
      fx[i] = ev[r * K + t];
      fb[i] = ev[(rows + r) * K + t];
    }
  }
  const gap = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < F; j++) s += attr[i * F + j];
    gap[i] = Math.abs(s - (fx[i] - fb[i]));
  }
  return result('integratedGradients', n, F, names, attr, targets, { outputs: fx, baselineOutputs: fb, gap });
}

/** The baseline as n rows of raw features. */
async function baselineOf(model: Sequential, b: ExplainOptions['baseline'], n: number, F: number, op: string): Promise<Float32Array> {
  const scaler = model.preprocessing.scaler as (Sequential['preprocessing']['scaler'] & { inverseTransform?(t: Tensor): Tensor; params?: { mean?: Float32Array } }) | null | undefined;
  let one: Float32Array;
  if (b === undefined || b === 'zeros') {
    if (!scaler) one = new Float32Array(F);
    else {
      if (typeof scaler.inverseTransform !== 'function')
        throw new TypeError(`${op}: baseline 'zeros' is zero in the model's input space, after its scaler, but this scaler cannot map back to raw features (no inverseTransform); give the baseline's raw values.`);
      const z = tensor(new Float32Array(F), [1, F]);
      try {
        one = await readAsync(noGrad(() => scaler.inverseTransform!(z)));
      } finally {
        z.dispose();
      }
    }
  } else if (b === 'mean') {
    const mean = scaler?.params?.mean;
    if (!(mean instanceof Float32Array) || mean.length !== F)
      throw new TypeError(`${op}: baseline 'mean' is the training mean that a standard scaler keeps, and this model has ${scaler ? 'another kind of scaler' : 'no scaler'}; give the mean's values as the baseline.`);
    one = mean;
  } else {
    const v = await rowsOf(b as Tensor | TensorLike, F, op).catch((e: Error) => {
      throw new RangeError(e.message.replace(/got x of/, 'got a baseline of'));
    });
    if (v.length !== F && v.length !== n * F) throw new RangeError(`${op}: the baseline has ${v.length / F} rows; give one row, or one per row of x (${n}).`);
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw new RangeError(`${op}: the baseline holds ${v[i]} at column ${i % F}; it must be finite.`);
    if (v.length === n * F) return v;
    one = v;
  }
  const out = new Float32Array(n * F);
  for (let i = 0; i < n; i++) out.set(one, i * F);
  return out;
}

/** Permutation importance: the metric's drop when each column is shuffled, mean and std over repeats. */
async function permutation(model: Sequential, values: Float32Array, n: number, names: string[], options: ExplainOptions): Promise<Explanation> {
  const op = 'explain';
  const F = model.inputSize, K = model.outputSize;
  if (options.y === undefined) throw new TypeError(`${op}: permutation importance measures a metric on labelled rows: give y (the labels of x's rows) with method 'permutation'.`);
  const ys = await rowsOfTargets(options.y, n, op);
  const metric = options.metric ?? (K > 1 || model.preprocessing.task === 'classification' ? 'accuracy' : 'r2');
  if (!['accuracy', 'r2', 'mse'].includes(metric)) throw new RangeError(`${op}: metric must be 'accuracy', 'r2' or 'mse', got ${String(metric)}.`);
  // One output's class: above 0.5 after a sigmoid, above 0 for a logit (predictClasses' rule).
  const threshold = finalActivation(model) === 'sigmoid' ? 0.5 : 0;
  const classes = Math.max(K, 2);
  const repeats = options.repeats ?? 5;
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`${op}: repeats must be a positive integer, got ${String(repeats)}.`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`${op}: seed must be a non-negative integer, got ${String(seed)}.`);
  if (metric === 'accuracy')
    ys.forEach((v, i) => {
      if (!Number.isInteger(v) || v < 0 || v >= classes) throw new RangeError(`${op}: label ${v} at row ${i} is not a class index in 0..${classes - 1}.`);
    });
  // Higher is better for every score here (mse enters negated), so a drop is score − shuffled score.
  const score = async (data: Float32Array): Promise<number> => {
    const x = tensor(data, [n, F]);
    let out: Float32Array;
    try {
      out = await readAsync(model.predict(x));
    } finally {
      x.dispose();
    }
    if (metric === 'accuracy') {
      let hits = 0;
      for (let r = 0; r < n; r++) {
        let best = 0;
        if (K === 1) best = out[r] > threshold ? 1 : 0;
        else for (let k = 1; k < K; k++) if (out[r * K + k] > out[r * K + best]) best = k;
        hits += best === ys[r] ? 1 : 0;
      }
      return hits / n;
    }
    let se = 0, mean = 0;
    for (let r = 0; r < n; r++) mean += ys[r];
    mean /= n;
    let tot = 0;
    for (let r = 0; r < n; r++) {
      se += (out[r] - ys[r]) ** 2;
      tot += (ys[r] - mean) ** 2;
    }
    return metric === 'mse' ? -se / n : 1 - se / (tot || 1);
  };
  const baseScore = await score(values);
  const r = rng(seed);
  const drops = new Float64Array(F * repeats);
  const copy = new Float32Array(values.length);
  const order = new Float32Array(n);
  for (let j = 0; j < F; j++)
    for (let k = 0; k < repeats; k++) {
      copy.set(values);
      for (let i = 0; i < n; i++) order[i] = i;
      r.shuffleInPlace(order);
      for (let i = 0; i < n; i++) copy[i * F + j] = values[order[i] * F + j];
      drops[j * repeats + k] = baseScore - (await score(copy));
    }
  const mean = new Float32Array(F), std = new Float64Array(F);
  for (let j = 0; j < F; j++) {
    let s = 0;
    for (let k = 0; k < repeats; k++) s += drops[j * repeats + k];
    const m = s / repeats;
    let v = 0;
    for (let k = 0; k < repeats; k++) v += (drops[j * repeats + k] - m) ** 2;
    mean[j] = m;
    std[j] = Math.sqrt(v / repeats);
  }
  return result('permutation', 1, F, names, mean, [], { permutation: { metric, score: metric === 'mse' ? -baseScore : baseScore, std, repeats } });
}

async function rowsOfTargets(y: Tensor | TensorLike, n: number, op: string): Promise<Float32Array> {
  let v: Float32Array;
  if (y instanceof Tensor) v = await y.data();
  else {
    const t = tensor(y as TensorLike);
    v = await readAsync(t);
  }
  if (v.length !== n) throw new RangeError(`${op}: y has ${v.length} values for ${n} rows; give one label per row.`);
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw new RangeError(`${op}: y holds ${v[i]} at row ${i}; labels must be finite.`);
  return v;
}

function result(method: ExplainMethod, rows: number, features: number, featureNames: string[], attributions: Float32Array, targets: number[], extra: Partial<Explanation>): Explanation {
  return {
    method, rows, features, featureNames, attributions, targets, ...extra,
    row(i: number) {
      if (!Number.isInteger(i) || i < 0 || i >= rows) throw new RangeError(`explanation.row: ${i} is not a row (0..${rows - 1}).`);
      return attributions.subarray(i * features, (i + 1) * features);
    },
    top(k = features) {
      const score = new Float64Array(features);
      for (let r = 0; r < rows; r++) for (let j = 0; j < features; j++) score[j] += Math.abs(attributions[r * features + j]) / rows;
      return Array.from(score, (value, index) => ({ feature: featureNames[index], index, value }))
        .sort((a, b) => b.value - a.value || a.index - b.index)
        .slice(0, Math.max(0, k));
    },
  };
}
