// Feature scalers, fitted on a [rows, features] tensor. The statistics are computed in float64 on the
// host; transform and inverseTransform are broadcast tensor ops, so they run on the active backend.
// A scaler's parameters travel with a saved model through toJSON() / scalerFromJSON().
import { tensor } from '../ops/creation.js';
import { add, div, mul, sub } from '../ops/elementwise.js';
import { fmtShape } from '../ops/util.js';
import { tidy } from '../core/scope.js';
import type { Tensor } from '../core/tensor.js';
import { checkOptions, readSync } from './util.js';
import { release, toTensor, type TensorInput } from '../ops/creation.js';

/** A standard scaler as JSON. */
export interface StandardScalerJSON {
  /** Marks a standard scaler. */
  kind: 'standard';
  /** Per-feature means. */
  mean: number[];
  /** Per-feature population standard deviations (ddof 0), 1 where a feature is constant. */
  std: number[];
}

/** A min-max scaler as JSON. */
export interface MinMaxScalerJSON {
  /** Marks a min-max scaler. */
  kind: 'minmax';
  /** Each feature's minimum in the training data. */
  min: number[];
  /** Each feature's maximum in the training data. */
  max: number[];
  /** The target interval [lo, hi]. */
  range: [number, number];
}

/** A scaler as JSON (toJSON and scalerFromJSON). */
export type ScalerJSON = StandardScalerJSON | MinMaxScalerJSON;

/** A fitted feature scaler (data.standardize, data.minMaxScale): as scikit-learn's fitted scalers. */
export interface Scaler {
  /** Which scaler. */
  readonly kind: 'standard' | 'minmax';
  /** The number of features it was fitted on. */
  readonly features: number;
  /** mean/std ('standard') or min/max ('minmax'), one value per feature, as float32. */
  readonly params: { mean: Float32Array; std: Float32Array } | { min: Float32Array; max: Float32Array };
  /** The target interval of a min-max scaler; undefined for 'standard'. */
  readonly range?: readonly [number, number];
  /** Scales x ([rows, features] or [features]) into a new tensor; x is left as it is. */
  transform(x: TensorInput): Tensor;
  /** Undoes transform: maps scaled values back to the original units. */
  inverseTransform(x: TensorInput): Tensor;
  /** A plain JSON-serializable description; scalerFromJSON() rebuilds the scaler. */
  toJSON(): ScalerJSON;
}

/** Per-column statistics in float64 of a [rows, features] tensor, checking for NaN and infinities. */
function columns(input: TensorInput, op: string): { n: number; f: number; v: Float32Array } {
  const X = toTensor(input, op, 'x');
  try {
    return columnsOf(X.t, op);
  } finally {
    release(X);
  }
}

function columnsOf(x: Tensor, op: string): { n: number; f: number; v: Float32Array } {
  if (x.rank !== 2) throw new RangeError(`${op}: x must be 2-D [rows, features], got ${fmtShape(x.shape)}; reshape a single feature to [rows, 1].`);
  const [n, f] = x.shape;
  if (n === 0) throw new RangeError(`${op}: x has no rows; a scaler needs at least one row to fit.`);
  const v = readSync(x, op);
  for (let i = 0; i < v.length; i++)
    if (!Number.isFinite(v[i]))
      throw new RangeError(`${op}: x has ${v[i]} at row ${Math.floor(i / f)}, column ${i % f}; clean the data first (readCsv's missing option drops or imputes missing values).`);
  return { n, f, v };
}

/**
 * Fits a standard scaler on x [rows, features]: transform(x) = (x − mean) / std with the population
 * standard deviation (ddof 0), as scikit-learn's StandardScaler. A constant feature gets std 1, so it
 * is centred to 0 rather than divided by zero.
 */
export function standardize(x: TensorInput): Scaler {
  const op = 'standardize';
  const { n, f, v } = columns(x, op);
  const mean = new Float64Array(f), m2 = new Float64Array(f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) mean[j] += v[i * f + j];
  for (let j = 0; j < f; j++) mean[j] /= n;
  // Two passes (mean, then squared deviations) avoid the cancellation of E[x²] − E[x]².
  for (let i = 0; i < n; i++)
    for (let j = 0; j < f; j++) {
      const d = v[i * f + j] - mean[j];
      m2[j] += d * d;
    }
  const std = new Float64Array(f);
  for (let j = 0; j < f; j++) {
    const s = Math.sqrt(m2[j] / n);
    // As scikit-learn's _handle_zeros_in_scale: a scale too small to divide by becomes 1.
    std[j] = s < 10 * Number.EPSILON * Math.max(1, Math.abs(mean[j])) ? 1 : s;
  }
  return makeStandard(Float32Array.from(mean), Float32Array.from(std));
}

function makeStandard(mean: Float32Array, std: Float32Array): Scaler {
  const f = mean.length;
  return {
    kind: 'standard',
    features: f,
    params: { mean, std },
    transform: (x) => apply(x, f, 'transform', (x) => div(sub(x, tensor(mean)), tensor(std))),
    inverseTransform: (x) => apply(x, f, 'inverseTransform', (x) => add(mul(x, tensor(std)), tensor(mean))),
    toJSON: () => ({ kind: 'standard', mean: Array.from(mean), std: Array.from(std) }),
  };
}

/** The options of data.minMaxScale. */
export interface MinMaxOptions {
  /** The interval the training data is mapped onto (default [0, 1]). */
  range?: [number, number];
}

/**
 * Fits a min-max scaler on x [rows, features]: each feature's [min, max] maps linearly onto
 * `range` (default [0, 1]), as scikit-learn's MinMaxScaler. A constant feature (max = min) maps to the
 * middle of the range, and other values of it move by (hi − lo) per unit, so nothing divides by zero.
 */
export function minMaxScale(x: TensorInput, options?: MinMaxOptions): Scaler {
  const op = 'minMaxScale';
  const o = checkOptions(options, ['range'], op);
  const range = checkRange(o.range ?? [0, 1], op);
  const { n, f, v } = columns(x, op);
  const min = new Float64Array(f).fill(Infinity), max = new Float64Array(f).fill(-Infinity);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < f; j++) {
      const a = v[i * f + j];
      if (a < min[j]) min[j] = a;
      if (a > max[j]) max[j] = a;
    }
  return makeMinMax(Float32Array.from(min), Float32Array.from(max), range);
}

function checkRange(r: unknown, op: string): [number, number] {
  if (!Array.isArray(r) || r.length !== 2 || !r.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(r[0] < r[1]))
    throw new RangeError(`${op}: range must be [lo, hi] with finite lo < hi, got ${JSON.stringify(r)}.`);
  return [r[0], r[1]];
}

function makeMinMax(min: Float32Array, max: Float32Array, range: [number, number]): Scaler {
  const f = min.length;
  const [lo, hi] = range;
  // y = (x − min)·scale + base, in float64 then rounded once to float32.
  const scale = new Float32Array(f), base = new Float32Array(f);
  for (let j = 0; j < f; j++) {
    const d = max[j] - min[j];
    scale[j] = d > 0 ? (hi - lo) / d : hi - lo;
    base[j] = d > 0 ? lo : (lo + hi) / 2;
  }
  return {
    kind: 'minmax',
    features: f,
    params: { min, max },
    range: Object.freeze([lo, hi] as [number, number]),
    transform: (x) => apply(x, f, 'transform', (x) => add(mul(sub(x, tensor(min)), tensor(scale)), tensor(base))),
    inverseTransform: (x) => apply(x, f, 'inverseTransform', (x) => add(div(sub(x, tensor(base)), tensor(scale)), tensor(min))),
    toJSON: () => ({ kind: 'minmax', min: Array.from(min), max: Array.from(max), range: [lo, hi] }),
  };
}

function apply(input: TensorInput, f: number, op: string, fn: (x: Tensor) => Tensor): Tensor {
  const X = toTensor(input, op, 'x');
  try {
    const x = X.t;
    if (x.rank < 1 || x.rank > 2 || x.shape[x.rank - 1] !== f)
      throw new RangeError(`${op}: x ${fmtShape(x.shape)} does not match the scaler, which was fitted on ${f} feature${f === 1 ? '' : 's'}; give [rows, ${f}].`);
    return tidy(() => fn(x));
  } finally {
    release(X);
  }
}

/** Rebuilds a scaler from its toJSON() (for example from a saved model's metadata). */
export function scalerFromJSON(json: unknown): Scaler {
  const op = 'scalerFromJSON';
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch (e) {
      throw new TypeError(`${op}: the string is not JSON (${(e as Error).message}).`);
    }
  }
  if (typeof json !== 'object' || json === null) throw new TypeError(`${op}: expects the object toJSON() returned, got ${json === null ? 'null' : typeof json}.`);
  const j = json as Record<string, unknown>;
  const nums = (key: string): Float32Array => {
    const a = j[key];
    if (!Array.isArray(a) || !a.every((v) => typeof v === 'number' && Number.isFinite(v)))
      throw new TypeError(`${op}: '${key}' must be an array of finite numbers (the scaler description is corrupt).`);
    return Float32Array.from(a);
  };
  if (j.kind === 'standard') {
    const mean = nums('mean'), std = nums('std');
    if (mean.length !== std.length) throw new RangeError(`${op}: mean has ${mean.length} values but std has ${std.length}.`);
    if (std.some((s) => !(s > 0))) throw new RangeError(`${op}: every std must be positive.`);
    return makeStandard(mean, std);
  }
  if (j.kind === 'minmax') {
    const min = nums('min'), max = nums('max');
    if (min.length !== max.length) throw new RangeError(`${op}: min has ${min.length} values but max has ${max.length}.`);
    if (min.some((m, i) => !(m <= max[i]))) throw new RangeError(`${op}: every min must be at most its max.`);
    return makeMinMax(min, max, checkRange(j.range, op));
  }
  throw new TypeError(`${op}: unknown scaler kind ${JSON.stringify(j.kind)}; expected 'standard' or 'minmax'.`);
}
