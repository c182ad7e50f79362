// The public unary functions, one per op of the table (src/core/optable.ts) but identity. src/index.ts
// re-exports this module whole and src/methods.ts attaches each function as a Tensor method, so a new op
// needs a line here and nowhere else in the API. Each is unaryOp (./unary-op.ts) under its name; the
// gradient rule and what it saves come from the table.
import { UNARY } from '../core/optable.js';
import type { Tensor } from '../core/tensor.js';
import { unaryOp } from './unary-op.js';
import { checkFiniteNumber } from './util.js';

/** max(x, 0); NaN propagates (torch.relu). */
export const relu = (x: Tensor): Tensor => unaryOp('relu', x);
/** max(x, 0) + slope·min(x, 0); PyTorch's default slope is 0.01. */
export const leakyRelu = (x: Tensor, slope: number = UNARY.leakyRelu.param.default): Tensor =>
  unaryOp('leakyRelu', x, checkFiniteNumber(slope, 'leakyRelu', 'slope'));
/** x for x > 0, else alpha·(eˣ − 1); alpha defaults to 1. */
export const elu = (x: Tensor, alpha: number = UNARY.elu.param.default): Tensor => unaryOp('elu', x, checkFiniteNumber(alpha, 'elu', 'alpha'));
/** The exact GELU, x·Φ(x) (torch.nn.GELU() without approximation). */
export const gelu = (x: Tensor): Tensor => unaryOp('gelu', x);
/** 1 / (1 + e^−x), elementwise. */
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', x);
/** tanh(x), elementwise. */
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x);
/** e^x, elementwise. */
export const exp = (x: Tensor): Tensor => unaryOp('exp', x);
/** The natural logarithm, elementwise. */
export const log = (x: Tensor): Tensor => unaryOp('log', x);
/** The square root, elementwise. */
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x);
/** −x, elementwise. */
export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
/** |x|, elementwise. */
export const abs = (x: Tensor): Tensor => unaryOp('abs', x);
/** x², elementwise. */
export const square = (x: Tensor): Tensor => unaryOp('square', x);
/** log(1 + eˣ), without overflow. */
export const softplus = (x: Tensor): Tensor => unaryOp('softplus', x);
/** 1 / x, elementwise. */
export const reciprocal = (x: Tensor): Tensor => unaryOp('reciprocal', x);
/** −1, 0 or 1 (±0 and NaN pass through). */
export const sign = (x: Tensor): Tensor => unaryOp('sign', x);
/** x·σ(x), the SiLU (swish) of torch.nn.SiLU. */
export const silu = (x: Tensor): Tensor => unaryOp('silu', x);
