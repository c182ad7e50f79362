import type { Strides } from '../core/backend.js';
import { Binary, binaryApiName, type BinaryName } from '../core/optable.js';
import { record } from '../autograd/graph.js';
import { Tensor, sizeOf, type Shape } from '../core/tensor.js';
import { full } from './creation.js';
import { abs, log, neg } from './unary.js';
import { assertTensor, backend, checkFiniteNumber, empty, fmtShape, view } from './util.js';

/** y = alpha·x + beta. */
export function affine(x: Tensor, alpha: number, beta = 0): Tensor {
  assertTensor(x, 'affine');
  checkFiniteNumber(alpha, 'affine', 'alpha');
  checkFiniteNumber(beta, 'affine', 'beta');
  const h = x.handle('affine');
  const y = empty(x.shape);
  backend().affine(x.size, h, y.handle('affine'), alpha, beta);
  return record(y, 'affine', [x], [], (dy) => [scale(dy, alpha)]);
}

/** alpha·x. */
export function scale(x: Tensor, alpha: number): Tensor {
  return affine(x, alpha, 0);
}

// ---- binary, with broadcasting ----

/** numpy/PyTorch broadcasting of two shapes; throws naming the op and the shapes. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new RangeError(
        `${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast: axis ${i} has sizes ${da} and ${db}; ` +
          `sizes must match or one of them must be 1.`,
      );
    out.push(da === 1 ? db : da);
  }
  return out;
}

interface Plan {
  outer: number;
  rows: number;
  cols: number;
  as: Strides;
  bs: Strides;
}

/**
 * Collapses a broadcast into at most three axes, each with a stride per operand (0 = broadcast),
 * which is what the binary kernels take. Adjacent axes that broadcast the same way merge.
 */
export function planBroadcast(a: Shape, b: Shape, out: Shape, op: string): Plan {
  const r = out.length;
  const pa = Array.from({ length: r }, (_, i) => a[a.length - r + i] ?? 1);
  const pb = Array.from({ length: r }, (_, i) => b[b.length - r + i] ?? 1);
  // Contiguous strides of each operand in its padded shape.
  const sa = new Array<number>(r), sb = new Array<number>(r);
  for (let i = r - 1, ka = 1, kb = 1; i >= 0; i--) {
    sa[i] = pa[i] === 1 ? 0 : ka;
    sb[i] = pb[i] === 1 ? 0 : kb;
    ka *= pa[i];
    kb *= pb[i];
  }
  const groups: { size: number; sa: number; sb: number; key: number }[] = [];
  for (let i = 0; i < r; i++) {
    if (out[i] === 1) continue;
    const key = (sa[i] ? 1 : 0) | (sb[i] ? 2 : 0);
    const last = groups[groups.length - 1];
    if (last && last.key === key) {
      last.size *= out[i];
      last.sa = sa[i];
      last.sb = sb[i];
    } else groups.push({ size: out[i], sa: sa[i], sb: sb[i], key });
  }
  if (groups.length > 3)
    throw new RangeError(
      `${op}: broadcasting ${fmtShape(a)} with ${fmtShape(b)} alternates between the operands on more than three axis groups; ` +
        `materialise one operand at the full shape first (e.g. add zeros of the output shape).`,
    );
  while (groups.length < 3) groups.unshift({ size: 1, sa: 0, sb: 0, key: 0 });
  const [g0, g1, g2] = groups;
  return { outer: g0.size, rows: g1.size, cols: g2.size, as: { s0: g0.sa, s1: g1.sa, s2: g2.sa }, bs: { s0: g0.sb, s1: g1.sb, s2: g2.sb } };
}

/** An operand of the elementwise ops: a tensor, or a number (broadcast). */
export type Operand = Tensor | number;

function asTensor(v: Operand, op: string, name: string): { t: Tensor; temp: boolean } {
  // A fill kernel, not a write: on webgpu a write between kernels costs a submission, and a recorded
  // step (src/core/program.ts) repeats it every time.
  if (typeof v === 'number') return { t: full([], v), temp: true };
  assertTensor(v, op, name);
  return { t: v, temp: false };
}

export function binaryOp(name: BinaryName, a: Operand, b: Operand): Tensor {
  const op = binaryApiName(name);
  const A = asTensor(a, op, 'a');
  const B = asTensor(b, op, 'b');
  try {
    const ha = A.t.handle(op), hb = B.t.handle(op);
    const shape = broadcastShapes(A.t.shape, B.t.shape, op);
    const p = planBroadcast(A.t.shape, B.t.shape, shape, op);
    const out = empty(shape);
    backend().binary(Binary[name], p.outer, p.rows, p.cols, ha, p.as, hb, p.bs, out.handle(op));
    const rule = BINARY_RULES[name];
    return rule ? record(out, name, [A.t, B.t], [A.t, B.t, out], rule) : out;
  } finally {
    if (A.temp) A.t.dispose();
    if (B.temp) B.t.dispose();
  }
}

/**
 * Gradient rules of the binary ops (comparisons have none). Each input's gradient is summed back over
 * the axes it was broadcast along.
 */
const BINARY_RULES: Partial<Record<BinaryName, (dy: Tensor, s: readonly Tensor[], needs: readonly boolean[]) => (Tensor | null)[]>> = {
  add: (dy, [a, b], [na, nb]) => [na ? sumTo(dy, a.shape) : null, nb ? sumTo(dy, b.shape) : null],
  sub: (dy, [a, b], [na, nb]) => [na ? sumTo(dy, a.shape) : null, nb ? sumTo(neg(dy), b.shape) : null],
  mul: (dy, [a, b], [na, nb]) => [na ? sumTo(mul(dy, b), a.shape) : null, nb ? sumTo(mul(dy, a), b.shape) : null],
  // d(a/b) = da/b − a·db/b² = (da − y·db)/b
  div: (dy, [a, b, y], [na, nb]) => {
    const g = div(dy, b);
    return [na ? sumTo(g, a.shape) : null, nb ? sumTo(neg(mul(g, y)), b.shape) : null];
  },
  // Ties split the gradient evenly between the operands (as PyTorch's maximum/minimum).
  max: (dy, [a, b], needs) => minMaxRule(dy, a, b, greater(a, b), needs),
  min: (dy, [a, b], needs) => minMaxRule(dy, a, b, greater(b, a), needs),
  // d(aᵇ) = b·aᵇ⁻¹·da + aᵇ·ln a·db; the ln a factor is taken as 0 where a = 0 (where the limit is 0).
  pow: (dy, [a, b, y], [na, nb]) => [
    na ? sumTo(mul(dy, mul(b, pow(a, sub(b, 1)))), a.shape) : null,
    nb ? sumTo(mul(dy, mul(y, log(add(abs(a), equal(a, 0))))), b.shape) : null,
  ],
};

function minMaxRule(dy: Tensor, a: Tensor, b: Tensor, aWins: Tensor, [na, nb]: readonly boolean[]): (Tensor | null)[] {
  const wa = add(aWins, mul(equal(a, b), 0.5));
  return [na ? sumTo(mul(dy, wa), a.shape) : null, nb ? sumTo(mul(dy, sub(1, wa)), b.shape) : null];
}

/** Sums g over the axes along which a tensor of `shape` was broadcast to g's shape. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  if (axes.length === 0) return view(g, shape);
  const s = reduceSum(g, axes);
  return view(s, shape);
}

/** Set by reduce.ts (which imports this file) to avoid an import cycle. */
let reduceSum: (x: Tensor, axes: number[]) => Tensor;
export function setReduceSum(fn: typeof reduceSum): void {
  reduceSum = fn;
}

/** x broadcast to `shape` (a copy). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  const op = 'broadcastTo';
  assertTensor(x, op);
  const target = broadcastShapes(x.shape, shape, op);
  if (target.length !== shape.length || target.some((d, i) => d !== shape[i]))
    throw new RangeError(`${op}: ${fmtShape(x.shape)} cannot be broadcast to ${fmtShape(shape)}.`);
  const p = planBroadcast(x.shape, x.shape, target, op);
  const out = empty(target);
  // max(x, x) = x for every float (NaN included): the broadcasting binary kernel as a copy, with no
  // second operand to allocate and fill.
  if (sizeOf(target)) backend().binary(Binary.max, p.outer, p.rows, p.cols, x.handle(op), p.as, x.handle(op), p.bs, out.handle(op));
  return record(out, op, [x], [x], (dy, [x]) => [sumTo(dy, x.shape)]);
}

/** a + b, elementwise, with NumPy broadcasting. */
export const add = (a: Operand, b: Operand) => binaryOp('add', a, b);
/** a − b, elementwise, with broadcasting. */
export const sub = (a: Operand, b: Operand) => binaryOp('sub', a, b);
/** a · b, elementwise, with broadcasting. */
export const mul = (a: Operand, b: Operand) => binaryOp('mul', a, b);
/** a / b, elementwise, with broadcasting. */
export const div = (a: Operand, b: Operand) => binaryOp('div', a, b);
/** Elementwise maximum (NaN if either is NaN). */
export const maximum = (a: Operand, b: Operand) => binaryOp('max', a, b);
/** The smaller of a and b, elementwise, with broadcasting. */
export const minimum = (a: Operand, b: Operand) => binaryOp('min', a, b);
/** a to the power b, elementwise, with broadcasting. */
export const pow = (a: Operand, b: Operand) => binaryOp('pow', a, b);
/** 1 where a > b, else 0. */
export const greater = (a: Operand, b: Operand) => binaryOp('greater', a, b);
/** 1 where a ≥ b, else 0, with broadcasting. */
export const greaterEqual = (a: Operand, b: Operand) => binaryOp('greaterEqual', a, b);
/** 1 where a = b, else 0, with broadcasting. */
export const equal = (a: Operand, b: Operand) => binaryOp('equal', a, b);
