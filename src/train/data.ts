// The data a fit() or evaluate() runs on: checked against the model and the loss, scaled by the model's
// scaler, and split into the rows to train on and the rows to validate with.
import { rng } from '../core/random.js';
import { apportion, groupByClass, MAX_ROWS } from '../core/stratify.js';
import { noGrad } from '../autograd/api.js';
import type { LossName } from '../nn/losses.js';
import type { Sequential } from '../nn/model.js';
import { toTensor, type TensorInput } from '../ops/creation.js';
import { sum } from '../ops/reduce.js';
import { fmtShape } from '../ops/util.js';
import { Tensor } from '../core/tensor.js';
import type { FitSettings } from './options.js';

/** Training data ready for the loop: tensors on the backend, and the row lists. */
export interface FitData {
  x: Tensor;
  y: Tensor;
  /** Validation tensors (x and y themselves when the validation rows are a split of them). */
  vx: Tensor;
  vy: Tensor;
  trainRows: Float32Array;
  valRows: Float32Array | null;
  /** Columns of the target per row: 0 for class indices. */
  targetCols: number;
  /** The training targets' values (as read for the checks). */
  ys: Float32Array;
}

/**
 * Reads, checks and prepares the data of a fit(). Tensors it creates (from arrays, or scaled copies) go
 * into `owned` for the caller to free; `settle` wraps each await (fit checks after each one that the
 * model is still alive).
 */
export async function fitData(
  model: Sequential,
  xIn: TensorInput,
  yIn: TensorInput,
  s: FitSettings,
  owned: Tensor[],
  settle: <T>(v: T | Promise<T>) => Promise<T>,
): Promise<FitData> {
  const take = (v: TensorInput, name: string) => {
    const r = asTensor(v, name, 'fit');
    if (r.own) owned.push(r.t);
    return r.t;
  };
  let x = take(xIn, 'x');
  const y = take(yIn, 'y');
  const { cols: targetCols, ys } = await settle(checkData(model, x, y, s.loss, ''));
  if (model.preprocessing.scaler) owned.push((x = model.preprocessing.scaler.transform(x)));
  let trainRows: Float32Array = Float32Array.from({ length: x.shape[0] }, (_, i) => i);
  let valRows: Float32Array | null = null;
  let vx = x, vy = y;
  if (s.validationSplit !== undefined) ({ train: trainRows, val: valRows } = holdOut(x.shape[0], s.validationSplit, targetCols === 0 ? ys : null, s.seed ^ 0x5bd1e995));
  else if (s.validationData) {
    const vd = s.validationData as any;
    const [a, b] = Array.isArray(vd) ? vd : [vd.x, vd.y];
    vx = take(a, 'validationData x');
    vy = take(b, 'validationData y');
    await settle(checkData(model, vx, vy, s.loss, 'validation'));
    if (model.preprocessing.scaler) owned.push((vx = model.preprocessing.scaler.transform(vx)));
    valRows = Float32Array.from({ length: vx.shape[0] }, (_, i) => i);
  }
  if (trainRows.length === 0) throw new RangeError('fit: there are no training rows.');
  return { x, y, vx, vy, trainRows, valRows, targetCols, ys };
}

function checkRows(n: number, what: string, op: string): void {
  if (n > MAX_ROWS)
    throw new RangeError(
      `${op}: ${what} has ${n} rows, more than the ${MAX_ROWS} (2^24) that ${op} can address (the backend indexes rows with float32); ` +
        `use a sample, or parts of at most ${MAX_ROWS} rows.`,
    );
}

/** fit's and evaluate's data arguments, by the one input rule (ops/creation.ts toTensor). */
export function asTensor(v: TensorInput, name: string, op: string): { t: Tensor; own: boolean } {
  return toTensor(v, op, name);
}

/** Checks the data against the model and the loss; returns the target's columns (0 for class indices) and its values. */
export async function checkData(model: Sequential, x: Tensor, y: Tensor, loss: LossName, what: string, op = 'fit'): Promise<{ cols: number; ys: Float32Array }> {
  // Before reading anything: past MAX_ROWS the reads would be wasted.
  if (x.rank > 0) checkRows(x.shape[0], what ? `${what} x` : 'x', op);
  const ys = await y.data();
  // x is often the whole dataset: check it where it lives instead of copying it out (a copy would
  // double the data's memory at the start of every fit). A float32 sum is finite only if every
  // value is finite (NaN and ±Inf propagate); x is copied out only when the sum is not finite (a bad
  // value, or an overflow), to name the culprit.
  const xs = (await allFinite(x)) ? null : await x.data();
  const cols = checkValues(model, x, y, loss, what, xs, ys, op);
  return { cols, ys };
}

async function allFinite(x: Tensor): Promise<boolean> {
  if (x.size === 0) return true;
  const total = noGrad(() => sum(x));
  try {
    return Number.isFinite((await total.data())[0]);
  } finally {
    total.dispose();
  }
}

export function checkValues(model: Sequential, x: Tensor, y: Tensor, loss: LossName, what: string, xs: Float32Array | null, ys: Float32Array, op = 'fit'): number {
  model.checkInput(x, op);
  if (what) what += ' ';
  const n = x.shape[0], out = model.outputSize;
  if (y.shape[0] !== n) throw new RangeError(`${op}: ${what}x has ${n} rows but y has ${y.shape[0] ?? 0}; they must have one target per row.`);
  if (xs)
    for (let i = 0; i < xs.length; i++)
      if (!Number.isFinite(xs[i]))
        throw new RangeError(`${op}: ${what}x holds ${xs[i]} at row ${Math.floor(i / x.shape[1])}, column ${i % x.shape[1]}; clean the data first (data.readCsv drops or imputes missing values).`);
  for (let i = 0; i < ys.length; i++)
    if (!Number.isFinite(ys[i])) throw new RangeError(`${op}: ${what}y holds ${ys[i]} at index ${i}; targets must be finite numbers.`);
  if (loss === 'softmaxCrossEntropy') {
    if (y.rank === 1) {
      for (let i = 0; i < ys.length; i++)
        if (!Number.isInteger(ys[i]) || ys[i] < 0 || ys[i] >= out)
          throw new RangeError(`${op}: label ${ys[i]} at row ${i} is not a class index in 0..${out - 1} (the model has ${out} outputs); encode labels as 0..${out - 1} or widen the output layer.`);
      return 0;
    }
    if (y.rank === 2 && y.shape[1] === out) return out;
    throw new RangeError(`${op}: softmaxCrossEntropy takes y as class indices [${n}] or one-hot [${n}, ${out}], got ${fmtShape(y.shape)}.`);
  }
  if (y.rank === 1 && out === 1) return 1;
  if (y.rank === 2 && y.shape[1] === out) return out;
  throw new RangeError(`${op}: the model has ${out} output${out > 1 ? 's' : ''}, so y must be [${n}, ${out}]${out === 1 ? ` or [${n}]` : ''}; got ${fmtShape(y.shape)}.` + (y.rank === 1 && out > 1 ? " For class labels use loss: 'softmaxCrossEntropy'." : ''));
}

/**
 * Splits rows into train/validation index lists (each ascending), holding out round(n·frac) rows.
 * With class labels the held-out rows are spread over the classes by largest remainder (stratify.ts,
 * as data.split does), each class keeping at least one training row; ties go by the seed.
 */
export function holdOut(n: number, frac: number, labels: ArrayLike<number> | null, seed: number): { train: Float32Array; val: Float32Array } {
  // Half up, forgiving the float error of n·frac (0.7 × 5 is 3.4999999999999996 in float64).
  const held = (f: number) => Math.floor(n * f + 0.5 + n * f * 1e-12);
  const nVal = held(frac);
  if (nVal < 1)
    throw new RangeError(
      `fit: validationSplit ${frac} of ${n} rows is ${+(n * frac).toPrecision(3)} rows, which rounds to none; ` +
        `use validationSplit ≥ ${shortest(0.5 / n, 'up', (f) => held(f) >= 1)} to hold out at least one row, or pass validationData.`,
    );
  const r = rng(seed);
  const { classes, rows, start } = groupByClass(labels, n);
  const k = classes.length;
  const counts = new Array<number>(k), caps = new Array<number>(k);
  for (let i = 0; i < k; i++) caps[i] = (counts[i] = start[i + 1] - start[i]) - 1;
  const per = apportion(counts, nVal, caps, r);
  if (!per) {
    const singles = counts.filter((c) => c === 1).length;
    throw new RangeError(
      labels
        ? `fit: validationSplit ${frac} would hold out ${nVal} of ${n} rows, but each of the ${k} classes keeps at least one row for training` +
            `${singles ? ` (${singles} of them have a single row)` : ''}, so at most ${n - k} can be held out; ` +
            (n > k ? `use validationSplit ≤ ${shortest((n - k) / n, 'down', (f) => held(f) === n - k)}, or pass validationData.` : 'pass validationData instead.')
        : `fit: validationSplit ${frac} of ${n} rows holds out ${nVal}, which leaves no row to train on; use a smaller validationSplit or more rows.`,
    );
  }
  const isVal = new Uint8Array(n);
  for (let i = 0; i < k; i++) {
    const own = r.shuffleInPlace(rows.subarray(start[i], start[i + 1]));
    for (let j = 0; j < per[i]; j++) isVal[own[j]] = 1;
  }
  const train = new Float32Array(n - nVal), val = new Float32Array(nVal);
  for (let i = 0, t = 0, v = 0; i < n; i++) {
    if (isVal[i]) val[v++] = i;
    else train[t++] = i;
  }
  return { train, val };
}

/** v rounded up or down to the fewest decimals that still pass `ok` (for a bound in a message). */
function shortest(v: number, dir: 'up' | 'down', ok: (f: number) => boolean): number {
  for (let d = 1; d < 16; d++) {
    const f = (dir === 'up' ? Math.ceil(v * 10 ** d) : Math.floor(v * 10 ** d)) / 10 ** d;
    if (ok(f)) return f;
  }
  return v;
}
