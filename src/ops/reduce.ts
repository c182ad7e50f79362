import { LabelMode, Reduce, type ReduceName } from '../core/optable.js';
import { record } from '../autograd/graph.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import { broadcastTo, div, equal, mul, scale, setReduceSum, sub } from './elementwise.js';
import { exp } from './unary.js';
import { assertTensor, backend, empty, fmtShape, normAxis, view } from './util.js';

/** An axis, or a list of axes (negative counts from the end). */
export type Axis = number | readonly number[];

function reduceAxis(name: ReduceName, x: Tensor, axis: number, keepDims: boolean): Tensor {
  const s = x.shape;
  const outer = sizeOf(s.slice(0, axis)), n = s[axis], inner = sizeOf(s.slice(axis + 1));
  const kept = s.map((d, i) => (i === axis ? 1 : d));
  const shape = keepDims ? kept : s.filter((_, i) => i !== axis);
  return run(name, x, outer, n, inner, shape, kept);
}

/** Reduces the middle axis of x viewed as [outer, n, inner]; `kept` is the shape with that axis as 1. */
function run(name: ReduceName, x: Tensor, outer: number, n: number, inner: number, shape: number[], kept: number[]): Tensor {
  const h = x.handle(name);
  const out = empty(shape);
  if (n === 0) {
    if (name !== 'sum' && name !== 'mean' && name !== 'sumSquares') {
      out.dispose();
      throw new RangeError(`${name}: cannot reduce an empty axis of ${fmtShape(x.shape)}; there is no ${name} of zero values.`);
    }
    backend().fill(out.size, out.handle(name), name === 'mean' ? NaN : 0);
  } else backend().reduce(Reduce[name], outer, n, inner, h, out.handle(name));
  const rule = REDUCE_RULES[name];
  return rule ? record(out, name, [x], [x, out], (dy, [x, y]) => [rule(view(dy, kept), x, view(y, kept), n)]) : out;
}

/** Gradient rules: dy and y arrive with the reduced axis kept as 1 (so they broadcast against x). */
const REDUCE_RULES: Partial<Record<ReduceName, (dy: Tensor, x: Tensor, y: Tensor, n: number) => Tensor>> = {
  sum: (dy, x) => broadcastTo(dy, x.shape),
  mean: (dy, x, _y, n) => broadcastTo(scale(dy, 1 / n), x.shape),
  sumSquares: (dy, x) => mul(broadcastTo(dy, x.shape), mul(x, 2)),
  // The gradient goes to the extreme values, split evenly between ties.
  max: (dy, x, y) => extremeRule(dy, x, y),
  min: (dy, x, y) => extremeRule(dy, x, y),
};

function extremeRule(dy: Tensor, x: Tensor, y: Tensor): Tensor {
  const hit = equal(x, y);
  const axes = y.shape.flatMap((d, i) => (d === 1 && x.shape[i] !== 1 ? [i] : []));
  return mul(hit, div(dy, sum(hit, axes, true)));
}

function reduce(name: ReduceName, x: Tensor, axis: Axis | undefined, keepDims: boolean, multi: boolean): Tensor {
  assertTensor(x, name);
  x.handle(name);
  if (axis === undefined || axis === null) {
    const shape = keepDims ? x.shape.map(() => 1) : [];
    return run(name, x, 1, x.size, 1, shape, x.shape.map(() => 1));
  }
  const axes = (typeof axis === 'number' ? [axis] : Array.from(axis)).map((a) => normAxis(a, x.rank, name));
  if (new Set(axes).size !== axes.length) throw new RangeError(`${name}: axis ${JSON.stringify(axis)} repeats an axis.`);
  if (axes.length === 0) return view(x, x.shape);
  if (axes.length > 1 && !multi) throw new RangeError(`${name}: takes a single axis, got ${JSON.stringify(axis)}.`);
  // Reduce from the last axis to the first so earlier axis numbers stay valid.
  axes.sort((a, b) => b - a);
  let cur = x;
  for (const a of axes) {
    const next = reduceAxis(name === 'sumSquares' && cur !== x ? 'sum' : name, cur, a, keepDims);
    if (cur !== x) cur.dispose();
    cur = next;
  }
  return cur;
}

/** Sum over `axis` (one, several, or all when omitted). */
export const sum = (x: Tensor, axis?: Axis, keepDims = false) => reduce('sum', x, axis, keepDims, true);
/** The mean over axis (all axes by default). */
export const mean = (x: Tensor, axis?: Axis, keepDims = false) => reduce('mean', x, axis, keepDims, true);
/** The maximum over axis (all axes by default). */
export const max = (x: Tensor, axis?: Axis, keepDims = false) => reduce('max', x, axis, keepDims, true);
/** The minimum over axis (all axes by default). */
export const min = (x: Tensor, axis?: Axis, keepDims = false) => reduce('min', x, axis, keepDims, true);
/** Index of the largest value along `axis` (first one on ties; a NaN wins), as float32. */
export const argmax = (x: Tensor, axis?: number, keepDims = false) => reduce('argmax', x, axis, keepDims, false);
/** The index of the minimum along axis. */
export const argmin = (x: Tensor, axis?: number, keepDims = false) => reduce('argmin', x, axis, keepDims, false);
/** Σ x² over `axis`. */
export const sumSquares = (x: Tensor, axis?: Axis, keepDims = false) => reduce('sumSquares', x, axis, keepDims, true);

setReduceSum((x, axes) => sum(x, axes));

function lastAxis(x: Tensor, axis: number, op: string): void {
  assertTensor(x, op);
  if (x.rank === 0) throw new RangeError(`${op}: needs at least one axis, got a scalar.`);
  if (normAxis(axis, x.rank, op) !== x.rank - 1)
    throw new RangeError(`${op}: only the last axis is supported (axis -1), got ${axis}; transpose the tensor first.`);
}

/** The softmax kernel (or its log form) over the rows of x's last axis. */
function rowSoftmax(x: Tensor, axis: number, op: 'softmax' | 'logSoftmax'): Tensor {
  lastAxis(x, axis, op);
  const h = x.handle(op);
  const cols = x.shape[x.rank - 1];
  const y = empty(x.shape);
  backend().softmax(cols ? x.size / cols : 0, cols, h, y.handle(op), op === 'logSoftmax');
  return y;
}

/** Softmax along the last axis. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const y = rowSoftmax(x, axis, 'softmax');
  // dx = y·(dy − Σ dy·y) along the row.
  return record(y, 'softmax', [x], [y], (dy, [y]) => [mul(y, sub(dy, sum(mul(dy, y), -1, true)))]);
}

/** log(softmax(x)) along the last axis, computed stably. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const y = rowSoftmax(x, axis, 'logSoftmax');
  // dx = dy − softmax(x)·Σ dy along the row, with softmax(x) = e^y.
  return record(y, 'logSoftmax', [x], [y], (dy, [y]) => [sub(dy, mul(exp(y), sum(dy, -1, true)))]);
}

/** How a loss reduces its per-row values: 'mean', 'sum' or 'none' (PyTorch's reduction). */
export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Softmax cross-entropy of logits [rows, classes] against labels: class indices [rows] (integers as
 * numbers) or target probabilities [rows, classes] (one-hot or soft). As torch.nn.CrossEntropyLoss,
 * reduction 'mean' (default), 'sum' or 'none' (per-row losses).
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, reduction: Reduction = 'mean'): Tensor {
  const op = 'softmaxCrossEntropy';
  assertTensor(logits, op, 'logits');
  assertTensor(labels, op, 'labels');
  if (logits.rank !== 2) throw new RangeError(`${op}: logits must be 2-D [rows, classes], got ${fmtShape(logits.shape)}.`);
  const [rows, cols] = logits.shape;
  let mode: number;
  if (labels.rank === 1 && labels.shape[0] === rows) mode = LabelMode.index;
  else if (labels.rank === 2 && labels.shape[0] === rows && labels.shape[1] === cols) mode = LabelMode.dense;
  else
    throw new RangeError(
      `${op}: labels ${fmtShape(labels.shape)} do not match logits ${fmtShape(logits.shape)}: give class indices of shape [${rows}] or targets of shape [${rows}, ${cols}].`,
    );
  if (!['mean', 'sum', 'none'].includes(reduction)) throw new RangeError(`${op}: reduction must be 'mean', 'sum' or 'none', got '${reduction}'.`);
  const hz = logits.handle(op), hl = labels.handle(op);
  const b = backend();
  if (mode === LabelMode.index && b.canReadSync && rows > 0) {
    const l = b.readSync(hl, rows);
    for (let i = 0; i < rows; i++)
      if (!Number.isInteger(l[i]) || l[i] < 0 || l[i] >= cols)
        throw new RangeError(`${op}: label ${l[i]} at row ${i} is not a class index in 0..${cols - 1}; labels must be integers below the number of classes.`);
  }
  const probs = empty([rows, cols]);
  const loss = empty([rows]);
  b.softmaxXent(rows, cols, hz, hl, mode as any, probs.handle(op), loss.handle(op));
  // The fused backward: dlogits = dy_row·(probs − target), from the probabilities of the forward pass.
  record(loss, op, [logits], [probs, labels], (dy, [probs, labels]) => {
    const g = empty(probs.shape);
    b.softmaxXentGrad(rows, cols, probs.handle(op), labels.handle(op), mode as any, dy.handle(op), g.handle(op));
    return [g];
  });
  probs.dispose();
  if (reduction === 'none') return loss;
  const out = reduction === 'mean' ? mean(loss) : sum(loss);
  loss.dispose();
  return out;
}
