import { Tensor, sizeOf, type NestedArray } from '../core/tensor.js';
import { backend, checkShape, empty, fmtShape } from './util.js';

export type TensorLike = NestedArray | ArrayLike<number> | Float32Array | Float64Array | Int32Array | Uint8Array;

/**
 * A tensor from data: a number, (nested) arrays of numbers, or a typed array. Without `shape`, the
 * shape is inferred from the nesting (a typed array or flat array becomes 1-D).
 */
export function tensor(data: TensorLike, shape?: readonly number[]): Tensor {
  const op = 'tensor';
  let flat: Float32Array;
  let inferred: number[];
  if (typeof data === 'number') {
    flat = Float32Array.of(data);
    inferred = [];
  } else if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    if (typeof (data as any)[0] === 'bigint') throw new TypeError(`${op}: BigInt arrays are not supported; convert to numbers first.`);
    flat = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    inferred = [flat.length];
  } else if (Array.isArray(data)) {
    inferred = inferShape(data);
    flat = new Float32Array(sizeOf(inferred));
    flatten(data, flat, 0, inferred, 0);
  } else {
    throw new TypeError(`${op}: data must be a number, an array of numbers or a typed array; got ${data === null ? 'null' : typeof data}.`);
  }
  let finalShape = inferred;
  if (shape !== undefined) {
    finalShape = checkShape(shape, op);
    if (sizeOf(finalShape) !== flat.length)
      throw new RangeError(`${op}: shape ${fmtShape(finalShape)} holds ${sizeOf(finalShape)} values but the data has ${flat.length}; give a shape whose sizes multiply to ${flat.length}.`);
  }
  const t = empty(finalShape);
  if (flat.length) backend().write(t.handle(op), flat);
  return t;
}

function inferShape(data: unknown[]): number[] {
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

function flatten(data: unknown, out: Float32Array, offset: number, shape: number[], dim: number): number {
  if (dim === shape.length) {
    if (typeof data !== 'number')
      throw new TypeError(`tensor: expected a number at depth ${dim}, got ${Array.isArray(data) ? 'an array (ragged nesting)' : typeof data}; every row must have the same length and hold numbers.`);
    out[offset] = data;
    return offset + 1;
  }
  if (!Array.isArray(data) || data.length !== shape[dim])
    throw new TypeError(`tensor: ragged nested array: expected ${shape[dim]} entries at depth ${dim}, got ${Array.isArray(data) ? data.length : typeof data}; every row must have the same length.`);
  for (const v of data) offset = flatten(v, out, offset, shape, dim + 1);
  return offset;
}

export function full(shape: readonly number[], value: number): Tensor {
  const s = checkShape(shape, 'full');
  if (typeof value !== 'number') throw new TypeError(`full: value must be a number, got ${typeof value}.`);
  const t = empty(s);
  backend().fill(t.size, t.handle('full'), value);
  return t;
}

export function zeros(shape: readonly number[]): Tensor {
  return full(shape, 0);
}

export function ones(shape: readonly number[]): Tensor {
  return full(shape, 1);
}

/** A tensor shaped like `x`, filled with `value`. */
export function fullLike(x: Tensor, value: number): Tensor {
  return full(x.shape, value);
}
