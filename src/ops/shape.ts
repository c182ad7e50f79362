import { record } from '../autograd/graph.js';
import { Tensor, sizeOf } from '../tensor.js';
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
    const hi = indices.handle(op);
    const cols = rows ? x.size / rows : sizeOf(x.shape.slice(1));
    const y = empty([indices.size, ...x.shape.slice(1)]);
    backend().gatherRows(indices.size, cols, x.handle(op), hi, y.handle(op));
    return y;
  }
  const idx = indices instanceof Tensor ? indices.dataSync() : Float32Array.from(indices);
  for (let i = 0; i < idx.length; i++)
    if (!Number.isInteger(idx[i]) || idx[i] < 0 || idx[i] >= rows)
      throw new RangeError(`${op}: index ${idx[i]} at position ${i} is not a row of x (0..${rows - 1}).`);
  const cols = rows ? x.size / rows : sizeOf(x.shape.slice(1));
  const hx = x.handle(op);
  const it = empty([idx.length]);
  backend().write(it.handle(op), idx);
  const y = empty([idx.length, ...x.shape.slice(1)]);
  backend().gatherRows(idx.length, cols, hx, it.handle(op), y.handle(op));
  it.dispose();
  return y;
}
