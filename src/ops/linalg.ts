import { engine } from '../core/engine.js';
import { checkOptions } from '../core/validate.js';
import { ACTIVATIONS, UNARY, Unary, activationOp, paramOf, type Activation } from '../core/optable.js';
import { needsGrad, record } from '../autograd/graph.js';
import type { Tensor } from '../core/tensor.js';
import { unaryGrad } from './unary-op.js';
import { sum } from './reduce.js';
import { reshape } from './shape.js';
import { assertTensor, backend, empty, fmtShape } from './util.js';

/** The options of matmul(). */
export interface MatmulOptions {
  /** Use aᵀ: a is stored [k, m]. */
  transposeA?: boolean;
  /** Use bᵀ: b is stored [n, k]. */
  transposeB?: boolean;
}

export type { Activation } from '../core/optable.js';

/** The parameter an activation runs with: the one given, else its default in the op table (0 if it has none). */
export function activationAlpha(activation: Activation, alpha: number | undefined): number {
  return paramOf(activationOp(activation), alpha);
}

function dims(a: Tensor, b: Tensor, ta: boolean, tb: boolean, op: string) {
  if (a.rank !== 2 || b.rank !== 2)
    throw new RangeError(`${op}: expects 2-D tensors, got a ${fmtShape(a.shape)} and b ${fmtShape(b.shape)}; reshape vectors to [1, n] or [n, 1].`);
  const [m, ka] = ta ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = tb ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (ka !== kb)
    throw new RangeError(
      `${op}: inner sizes differ: ${ta ? `aᵀ is [${m}, ${ka}] (a is ${fmtShape(a.shape)})` : `a is ${fmtShape(a.shape)}`} and ` +
        `${tb ? `bᵀ is [${kb}, ${n}] (b is ${fmtShape(b.shape)})` : `b is ${fmtShape(b.shape)}`}; the columns of the first must equal the rows of the second` +
        (!ta && !tb && a.shape[1] === b.shape[1] ? ' (did you mean {transposeB: true}?)' : '') +
        '.',
    );
  return { m, n, k: ka };
}

/** The matrix product op(a)·op(b) of 2-D tensors. */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const op = 'matmul';
  assertTensor(a, op, 'a');
  assertTensor(b, op, 'b');
  checkOptions(options, ['transposeA', 'transposeB'], op);
  const ta = !!options.transposeA, tb = !!options.transposeB;
  const ha = a.handle(op), hb = b.handle(op);
  const { m, n, k } = dims(a, b, ta, tb, op);
  const c = empty([m, n]);
  backend().gemm({ m, n, k, a: ha, transA: ta, b: hb, transB: tb, c: c.handle(op), bias: null, act: Unary.identity, alpha: 0, beta: 0 });
  return record(c, op, [a, b], [a, b], (dc, [a, b], needs) => matmulGrads(dc, a, b, ta, tb, needs));
}

/**
 * Gradients of C = op(A)·op(B) in the layout A and B are stored in, each one gemm:
 * A·B: dA = dC·Bᵀ, dB = Aᵀ·dC;  A·Bᵀ: dA = dC·B, dB = dCᵀ·A;  Aᵀ·B: dA = B·dCᵀ, dB = A·dC;
 * Aᵀ·Bᵀ: dA = Bᵀ·dCᵀ, dB = dCᵀ·Aᵀ.
 */
function matmulGrads(dc: Tensor, a: Tensor, b: Tensor, ta: boolean, tb: boolean, needs: readonly boolean[]): (Tensor | null)[] {
  const mm = (x: Tensor, y: Tensor, transposeA: boolean, transposeB: boolean) => matmul(x, y, { transposeA, transposeB });
  const [na, nb] = needs;
  if (!ta && !tb) return [na ? mm(dc, b, false, true) : null, nb ? mm(a, dc, true, false) : null];
  if (!ta && tb) return [na ? mm(dc, b, false, false) : null, nb ? mm(dc, a, true, false) : null];
  if (ta && !tb) return [na ? mm(b, dc, false, true) : null, nb ? mm(a, dc, false, false) : null];
  return [na ? mm(b, dc, true, true) : null, nb ? mm(dc, a, true, true) : null];
}

/**
 * A dense layer's forward pass in one fused kernel: act(x·w + bias), x [batch, in], w [in, out],
 * bias [out]. `alpha` is the slope of leakyRelu (default 0.01) or the alpha of elu (default 1).
 */
export function dense(x: Tensor, w: Tensor, bias?: Tensor | null, activation: Activation = 'linear', alpha?: number): Tensor {
  const op = 'dense';
  assertTensor(x, op, 'x');
  assertTensor(w, op, 'w');
  if (!ACTIVATIONS.includes(activation))
    throw new RangeError(`${op}: unknown activation '${String(activation)}'; use one of ${ACTIVATIONS.join(', ')}.`);
  const hx = x.handle(op), hw = w.handle(op);
  const { m, n, k } = dims(x, w, false, false, op);
  let hb: unknown = null;
  if (bias != null) {
    assertTensor(bias, op, 'bias');
    if (bias.size !== n || bias.rank > 2 || (bias.rank === 2 && bias.shape[0] !== 1))
      throw new RangeError(`${op}: bias must have shape [${n}] to match w ${fmtShape(w.shape)}, got ${fmtShape(bias.shape)}.`);
    hb = bias.handle(op);
  }
  if (alpha !== undefined && (typeof alpha !== 'number' || !Number.isFinite(alpha))) throw new TypeError(`${op}: alpha must be a finite number, got ${String(alpha)}.`);
  const a = activationAlpha(activation, alpha);
  const name = activationOp(activation);
  const act = Unary[name];
  const reads = UNARY[name].grad;
  const be = backend();
  const recording = needsGrad([x, w, bias]);
  // The fused epilogue serves training too when the derivative needs no pre-activation z: it reads y alone
  // (sigmoid, tanh) or nothing (identity), or x only through its sign, which y shares (relu, and leakyRelu
  // with slope ≥ 0). Other activations keep z for their derivative.
  const fromOutput = reads === 'y' || reads === 'none' || name === 'relu' || (name === 'leakyRelu' && a >= 0);
  const y = empty([m, n]);
  let z = y;
  if (!recording || fromOutput)
    be.gemm({ m, n, k, a: hx, transA: false, b: hw, transB: false, c: y.handle(op), bias: hb, act, alpha: a, beta: 0 });
  else {
    z = empty([m, n]);
    be.gemm({ m, n, k, a: hx, transA: false, b: hw, transB: false, c: z.handle(op), bias: hb, act: Unary.identity, alpha: 0, beta: 0 });
    be.unary(act, m * n, z.handle(op), y.handle(op), a);
  }
  record(y, op, [x, w, bias ?? null], [x, w, z, y], (dy, [x, w, z, y], [nx, nw, nb]) => {
    const dz = name === 'identity' ? dy : unaryGrad(name, reads === 'y' || reads === 'none' ? null : fromOutput ? y : z, y, dy, a);
    // Private training: the weight and bias gradients are per-sample sums the sink clips before adding.
    const sink = engine.perSample;
    if (sink && (nw || nb)) {
      sink.dense(x, dz, w, bias ?? null);
      return [nx ? matmul(dz, w, { transposeB: true }) : null, null, null];
    }
    return [
      nx ? matmul(dz, w, { transposeB: true }) : null,
      nw ? matmul(x, dz, { transposeA: true }) : null,
      nb && bias ? reshape(sum(dz, 0), bias.shape) : null,
    ];
  });
  if (z !== y) z.dispose();
  return y;
}
