import { engine, type Storage } from '../core/engine.js';
import { Tensor, sizeOf, type Shape } from '../core/tensor.js';

export function fmtShape(s: Shape): string {
  return `[${s.join(', ')}]`;
}

export function assertTensor(x: unknown, op: string, name = 'x'): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    const got = x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x;
    throw new TypeError(`${op}: ${name} must be a Tensor, got ${got}; wrap plain data with tensor(data, shape).`);
  }
}

export function checkShape(shape: unknown, op: string): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${op}: shape must be an array of sizes, e.g. [2, 3]; got ${typeof shape}.`);
  for (const d of shape)
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0)
      throw new RangeError(`${op}: shape ${JSON.stringify(shape)} is invalid: every size must be a non-negative integer.`);
  if (sizeOf(shape) > 2 ** 30) throw new RangeError(`${op}: shape ${fmtShape(shape)} has ${sizeOf(shape)} elements; the limit is 2^30 (4 GiB of float32).`);
  return shape.slice();
}

/** Normalises an axis (negative counts from the end) or throws naming the op. */
export function normAxis(axis: unknown, rank: number, op: string): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -rank || axis >= rank)
    throw new RangeError(`${op}: axis ${String(axis)} is out of range for a tensor of rank ${rank} (use -${rank}..${rank - 1}).`);
  return axis < 0 ? axis + rank : axis;
}

export function checkFiniteNumber(v: unknown, op: string, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${op}: ${name} must be a finite number, got ${String(v)}.`);
  return v;
}

/** A fresh output tensor of `shape` on the active backend. */
export function empty(shape: Shape): Tensor {
  return new Tensor(shape, engine.newStorage(sizeOf(shape)));
}

/** A tensor sharing x's storage with another shape (same size). */
export function view(x: Tensor, shape: Shape): Tensor {
  return new Tensor(shape, x.storage as Storage);
}

export function backend() {
  return engine.requireBackend();
}
