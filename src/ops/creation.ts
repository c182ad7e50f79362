import { Tensor, sizeOf, type NestedArray } from '../core/tensor.js';
import { backend, checkShape, empty, fmtShape } from './util.js';

/** Plain data for a tensor: a number, nested arrays of numbers, or a flat array or typed array (1-D). */
export type TensorLike = NestedArray | ArrayLike<number> | Float32Array | Float64Array | Int32Array | Uint8Array;

/** A flat array or typed array with the shape it holds, row-major: `{data: float32Array, shape: [rows, 64]}`. */
export interface ShapedArray {
  /** The values, row-major. */
  data: ArrayLike<number>;
  /** The shape they hold. */
  shape: readonly number[];
}

/**
 * What every public function that takes data accepts (fit, evaluate, predict, predictClasses,
 * predictProba, data.split, data.batches, data.standardize, data.minMaxScale, oneHot, the metrics): a
 * Tensor, nested arrays (`[[5.1, 3.5], …]`), a flat array or typed array (1-D), or a typed array with
 * its shape (`{data, shape}`). Tensors are used as they are; the rest is copied into a new tensor that
 * the function frees itself.
 */
export type TensorInput = Tensor | TensorLike | ShapedArray;

/** `{data, shape}` (and not a Tensor or an array). */
export function isShapedArray(v: unknown): v is ShapedArray {
  return typeof v === 'object' && v !== null && !(v instanceof Tensor) && !Array.isArray(v) && !ArrayBuffer.isView(v) && 'data' in v && 'shape' in v;
}

/**
 * The one rule for data arguments (TensorInput): a Tensor as it is (checked usable), anything else as a
 * new tensor (`own`: the caller frees it). Messages name the function and the argument.
 */
export function toTensor(v: TensorInput, op: string, name: string): { t: Tensor; own: boolean } {
  if (v instanceof Tensor) {
    v.handle(op);
    return { t: v, own: false };
  }
  if (v === undefined || v === null)
    throw new TypeError(`${op}: ${name} is missing; give a Tensor, nested arrays, a typed array, or {data, shape}.`);
  try {
    return { t: isShapedArray(v) ? tensor(v.data as TensorLike, v.shape) : tensor(v), own: true };
  } catch (e) {
    const why = (e as Error).message.replace(/^tensor: /, '');
    const Kind = (e instanceof RangeError ? RangeError : TypeError) as ErrorConstructor;
    throw new Kind(`${op}: ${name}: ${why}`, { cause: e });
  }
}

/** Frees what toTensor created. */
export function release(...inputs: { t: Tensor; own: boolean }[]): void {
  for (const i of inputs) if (i.own) i.t.dispose();
}

/**
 * A tensor from data: a number, (nested) arrays of numbers, or a typed array. Without `shape`, the
 * shape is inferred from the nesting (a typed array or flat array becomes 1-D). As `torch.tensor` /
 * `tf.tensor`; the values are stored as float32.
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

/** A tensor of `shape` filled with `value` (torch.full). */
export function full(shape: readonly number[], value: number): Tensor {
  const s = checkShape(shape, 'full');
  if (typeof value !== 'number') throw new TypeError(`full: value must be a number, got ${typeof value}.`);
  const t = empty(s);
  backend().fill(t.size, t.handle('full'), value);
  return t;
}

/** A tensor of zeros (torch.zeros). */
export function zeros(shape: readonly number[]): Tensor {
  return full(shape, 0);
}

/** A tensor of ones (torch.ones). */
export function ones(shape: readonly number[]): Tensor {
  return full(shape, 1);
}

/** A tensor shaped like `x`, filled with `value`. */
export function fullLike(x: Tensor, value: number): Tensor {
  return full(x.shape, value);
}
