// Helpers shared by the data modules (not exported from the package).
import { engine } from '../core/engine.js';
import { fmtShape } from '../ops/util.js';
import { Tensor } from '../core/tensor.js';

// A decimal number as CSV files write them: optional sign, digits with an optional point, optional
// exponent. Stricter than Number(), which also takes '', ' ', '0x1f', '0b1', 'Infinity'.
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const F32_MAX = 3.4028234663852886e38;

/** The number in a (trimmed) CSV field, or NaN when it is not a finite number that fits float32. */
export function parseNumber(s: string): number {
  if (!NUMBER_RE.test(s)) return NaN;
  const v = parseFloat(s);
  return Math.abs(v) <= F32_MAX ? v : NaN;
}

/**
 * Sorts labels "naturally": when every label is a number, numerically; otherwise by UTF-16 code units
 * (the same order in every locale, unlike localeCompare).
 */
export function sortLabels(labels: Iterable<string>): string[] {
  const out = [...new Set(labels)];
  const nums = out.map(parseNumber);
  if (nums.every((v) => !Number.isNaN(v))) {
    const order = out.map((_, i) => i).sort((i, j) => nums[i] - nums[j] || (out[i] < out[j] ? -1 : out[i] > out[j] ? 1 : 0));
    return order.map((i) => out[i]);
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The float32 values of a tensor, or a clear error on backends that only read asynchronously. */
export function readSync(t: Tensor, op: string): Float32Array {
  const b = engine.requireBackend();
  if (!b.canReadSync) throw new Error(`${op}: the '${b.name}' backend reads asynchronously, which ${op} does not support yet; run it on 'wasm' or 'js'.`);
  return t.dataSync();
}

/** The number of rows and the values per row of a tensor whose first axis is the rows. */
export function rowShape(x: Tensor, op: string, name: string): { rows: number; cols: number } {
  if (x.rank === 0) throw new RangeError(`${op}: ${name} must have a first axis of rows, got a scalar.`);
  const rows = x.shape[0];
  return { rows, cols: rows ? x.size / rows : x.shape.slice(1).reduce((a, b) => a * b, 1) };
}

/** The rows `idx` of x (rows on the first axis) as a new tensor; idx must hold valid row numbers (callers build it). */
export { takeRows as gatherRows } from '../ops/shape.js';

export function checkTensor(x: unknown, op: string, name: string): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    const got = x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x;
    throw new TypeError(`${op}: ${name} must be a Tensor, got ${got}; wrap plain data with tensor(data, shape).`);
  }
  x.handle(op);
}

export function checkRowsMatch(x: Tensor, y: Tensor, op: string): void {
  const nx = rowShape(x, op, 'x').rows, ny = rowShape(y, op, 'y').rows;
  if (nx !== ny)
    throw new RangeError(`${op}: x ${fmtShape(x.shape)} has ${nx} rows but y ${fmtShape(y.shape)} has ${ny}; x and y must have one row per example.`);
}

export { checkOptions } from '../core/validate.js';

/** Quotes a name for a message. */
export const q = (s: string) => `'${s}'`;

/** A list for a message, shortened past `max` items. */
export function list(items: readonly string[], max = 12): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown}, … (${items.length} in all)` : shown;
}
