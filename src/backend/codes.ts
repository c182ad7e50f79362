// Operation codes shared by every backend. The AssemblyScript kernels (assembly/codes.ts) and the WGSL
// shaders use the same numbers; the conformance suite compares every code against the js backend, so a
// mismatch fails a test rather than passing silently.

/** Elementwise unary functions; also the activation codes of the fused gemm epilogue. */
export const Unary = {
  identity: 0,
  relu: 1,
  leakyRelu: 2, // alpha = negative slope
  elu: 3, // alpha
  gelu: 4, // exact (erf) form, as torch.nn.GELU()
  sigmoid: 5,
  tanh: 6,
  exp: 7,
  log: 8,
  sqrt: 9,
  neg: 10,
  abs: 11,
  square: 12,
  softplus: 13, // log(1 + e^x), computed without overflow
  reciprocal: 14,
  sign: 15,
} as const;
export type UnaryCode = (typeof Unary)[keyof typeof Unary];
export type UnaryName = keyof typeof Unary;

/** Elementwise binary functions. Comparisons produce 1 or 0. */
export const Binary = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  max: 4,
  min: 5,
  greater: 6, // a > b
  greaterEqual: 7, // a >= b
  equal: 8, // a == b
  pow: 9,
} as const;
export type BinaryCode = (typeof Binary)[keyof typeof Binary];
export type BinaryName = keyof typeof Binary;

/** Reductions over the middle axis of an [outer, n, inner] view. */
export const Reduce = {
  sum: 0,
  mean: 1,
  max: 2,
  min: 3,
  argmax: 4, // index written as a float (exact below 2^24)
  argmin: 5,
  sumSquares: 6,
} as const;
export type ReduceCode = (typeof Reduce)[keyof typeof Reduce];
export type ReduceName = keyof typeof Reduce;

/** How labels are given to the fused softmax cross-entropy kernels. */
export const LabelMode = {
  /** One label per row: a class index stored as a float. */
  index: 0,
  /** A [rows, cols] matrix of target probabilities (one-hot or soft). */
  dense: 1,
} as const;
export type LabelModeCode = (typeof LabelMode)[keyof typeof LabelMode];

/**
 * Fused optimizer updates (backend.optimStep), following torch.optim. Every kind first forms the
 * effective gradient g' = gscale·g + weightDecay·p + l1·sign(p) (AdamW leaves the weightDecay term out and
 * multiplies p by 1 − lr·weightDecay instead); gscale is the global-norm clipping factor (1 = none).
 * Flags are 0 or 1. Anything that depends on the step count t (of this parameter, from 1) is computed by
 * the caller in float64. `hyper` and the state buffers per kind:
 *
 *   sgd      [lr, momentum, dampening, weightDecay, nesterov, first, l1, gscale]
 *            s1: momentum buffer [n] (null when momentum = 0); s2: null. first = 1 on t = 1 (buf ← g').
 *   adam     [lr, beta1, beta2, eps, weightDecay, decoupled, bc1, bc2, l1, gscale, amsgrad]
 *            s1: first moment m [n]; s2: second moment v [n], followed by max(v) [n] when amsgrad
 *            (size 2n). decoupled = 1 is AdamW. bc1 = 1 − beta1^t, bc2 = 1 − beta2^t.
 *   rmsprop  [lr, alpha, eps, weightDecay, momentum, centered, l1, gscale]
 *            s1: square average [n]; s2: momentum buffer [n] when momentum > 0, followed by the gradient
 *            average [n] when centered (null when neither).
 *   adagrad  [clr, eps, weightDecay, l1, gscale]
 *            s1: sum of squares [n], starting at initialAccumulatorValue; clr = lr/(1 + (t − 1)·lrDecay).
 *
 * The update equations are written out in assembly/optim.ts; src/backend/js/optim.ts is the float64 oracle.
 * The optimizer reuses one `hyper` array for all its calls: a backend that defers work (webgpu) must copy
 * the values during the call.
 */
export const Optim = {
  sgd: 0,
  adam: 1,
  rmsprop: 2,
  adagrad: 3,
} as const;
export type OptimCode = (typeof Optim)[keyof typeof Optim];
