import { record } from '../autograd/graph.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import { assertTensor, backend, checkShape, empty, fmtShape, view } from './util.js';

/** The same values with another shape (no copy; one size may be -1 to infer it). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const op = 'reshape';
  assertTensor(x, op);
  x.handle(op);
  if (!Array.isArray(shape)) throw new TypeError(`${op}: shape must be an array of sizes, got ${typeof shape}.`);
  const s = shape.slice();
  const infer = s.indexOf(-1);
  if (infer >= 0) {
    if (s.indexOf(-1, infer + 1) >= 0) throw new RangeError(`${op}: only one size may be -1, got ${fmtShape(shape)}.`);
    const rest = sizeOf(s.filter((_, i) => i !== infer));
    if (rest === 0 || x.size % rest !== 0)
      throw new RangeError(`${op}: cannot infer the -1 in ${fmtShape(shape)} for ${x.size} values.`);
    s[infer] = x.size / rest;
  }
  checkShape(s, op);
  if (sizeOf(s) !== x.size)
    throw new RangeError(`${op}: cannot reshape ${fmtShape(x.shape)} (${x.size} values) to ${fmtShape(s)} (${sizeOf(s)} values).`);
  const shapeIn = x.shape;
  return record(view(x, s), op, [x], [], (dy) => [view(dy, shapeIn)]);
}

/** Flattens to [batch, rest]. */
export function flatten(x: Tensor): Tensor {
  assertTensor(x, 'flatten');
  return reshape(x, x.rank === 0 ? [1, 1] : [x.shape[0], sizeOf(x.shape.slice(1))]);
}

/** The transpose of a 2-D tensor. */
export function transpose(x: Tensor): Tensor {
  const op = 'transpose';
  assertTensor(x, op);
  if (x.rank !== 2) throw new RangeError(`${op}: expects a 2-D tensor, got ${fmtShape(x.shape)}.`);
  const h = x.handle(op);
  const [r, c] = x.shape;
  const y = empty([c, r]);
  backend().transpose(r, c, h, y.handle(op));
  return record(y, op, [x], [], (dy) => [transpose(dy)]);
}

/** A copy with its own storage. */
export function clone(x: Tensor): Tensor {
  assertTensor(x, 'clone');
  const h = x.handle('clone');
  const y = empty(x.shape);
  backend().copy(x.size, h, y.handle('clone'));
  return record(y, 'clone', [x], [], (dy) => [dy]);
}

/** The same values cut off from the autograd graph (shares storage). */
export function detach(x: Tensor): Tensor {
  assertTensor(x, 'detach');
  x.handle('detach');
  return view(x, x.shape);
}

/** Rows of x picked by indices (a tensor or array of row numbers): y[i] = x[indices[i]]. */
export function gatherRows(x: Tensor, indices: Tensor | ArrayLike<number>): Tensor {
  const op = 'gatherRows';
  assertTensor(x, op);
  if (x.rank < 1) throw new RangeError(`${op}: x must have at least one axis, got a scalar.`);
  const rows = x.shape[0];
  if (indices instanceof Tensor && !backend().canReadSync) {
    // A backend that reads asynchronously (webgpu) cannot check the indices here: they stay on the device,
    // and a row whose index is not a row of x comes out as NaN.
    return gather(x, indices.size, indices.handle(op), op);
  }
  const idx = indices instanceof Tensor ? indices.dataSync() : Float32Array.from(indices);
  for (let i = 0; i < idx.length; i++)
    if (!Number.isInteger(idx[i]) || idx[i] < 0 || idx[i] >= rows)
      throw new RangeError(`${op}: index ${idx[i]} at position ${i} is not a row of x (0..${rows - 1}).`);
  return takeRows(x, idx, op);
}

/**
 * @internal The rows `idx` of x (any rank, rows on the first axis) as a new tensor, for row numbers the
 * caller has validated (gatherRows above, and the data pipeline's splits and batches); errors name `op`.
 */
export function takeRows(x: Tensor, idx: ArrayLike<number>, op: string): Tensor {
  x.handle(op);
  const n = idx.length;
  if (n === 0) return gather(x, 0, null, op);
  const it = empty([n]);
  try {
    backend().write(it.handle(op), idx instanceof Float32Array ? idx : Float32Array.from(idx));
    return gather(x, n, it.handle(op), op);
  } finally {
    it.dispose();
  }
}

/** y[r, :] = x[idx[r], :] for r < n, with the row numbers in device storage `hi`. */
function gather(x: Tensor, n: number, hi: unknown, op: string): Tensor {
  const rows = x.shape[0];
  const cols = rows ? x.size / rows : sizeOf(x.shape.slice(1));
  const y = empty([n, ...x.shape.slice(1)]);
  if (n > 0 && cols > 0) backend().gatherRows(n, cols, x.handle(op), hi, y.handle(op));
  return y;
}
