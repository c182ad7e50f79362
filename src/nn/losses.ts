// Losses as differentiable functions of (prediction, target), with PyTorch's definitions and a
// 'mean' reduction by default. fit() runs fused versions of the same formulas (src/train/plan.ts); the
// tests check that both agree.
import { Tensor } from '../core/tensor.js';
import { add, minimum, mul, sub } from '../ops/elementwise.js';
import { abs, neg, relu, softplus } from '../ops/unary.js';
import { mean, softmaxCrossEntropy as sce, sum, type Reduction } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import { assertTensor, fmtShape } from '../ops/util.js';

/** The losses of fit() and evaluate(). */
export type LossName = 'mse' | 'mae' | 'huber' | 'binaryCrossEntropy' | 'softmaxCrossEntropy';

/** Options of the loss functions. */
export interface LossOptions {
  /** 'mean' (default), 'sum' or 'none' (one value per row), as PyTorch's reduction. */
  reduction?: Reduction;
  /** Huber's threshold (torch.nn.HuberLoss delta, default 1). */
  delta?: number;
}

function reduce(l: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (reduction === 'none') return l;
  if (reduction === 'sum') return sum(l);
  if (reduction === 'mean') return mean(l);
  throw new RangeError(`loss: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'.`);
}

/** Checks pred and target have the same shape (a [n] target matches a [n, 1] prediction). */
function sameShape(pred: Tensor, target: Tensor, op: string): Tensor {
  assertTensor(pred, op, 'pred');
  assertTensor(target, op, 'target');
  if (pred.shape.join() === target.shape.join()) return target;
  if (pred.rank === 2 && pred.shape[1] === 1 && target.rank === 1 && target.shape[0] === pred.shape[0]) return reshape(target, pred.shape);
  throw new RangeError(`${op}: prediction ${fmtShape(pred.shape)} and target ${fmtShape(target.shape)} differ in shape; they must match.`);
}

/** Mean squared error (torch.nn.MSELoss). */
export function mse(pred: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  const t = sameShape(pred, target, 'mse');
  const d = sub(pred, t);
  return reduce(mul(d, d), options.reduction);
}

/** Mean absolute error (torch.nn.L1Loss). */
export function mae(pred: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  const t = sameShape(pred, target, 'mae');
  return reduce(abs(sub(pred, t)), options.reduction);
}

/** Huber loss (torch.nn.HuberLoss): ½d² where |d| < δ, else δ(|d| − ½δ). */
export function huber(pred: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  const t = sameShape(pred, target, 'huber');
  const delta = options.delta ?? 1;
  if (!(typeof delta === 'number' && delta > 0 && Number.isFinite(delta))) throw new RangeError(`huber: delta must be a positive finite number, got ${String(delta)}.`);
  const a = abs(sub(pred, t));
  const q = minimum(a, delta);
  return reduce(mul(q, sub(a, mul(q, 0.5))), options.reduction);
}

/**
 * Binary cross-entropy from logits (torch.nn.BCEWithLogitsLoss): max(z, 0) − z·y + log(1 + e^−|z|),
 * stable for any z. Targets are probabilities in [0, 1].
 */
export function binaryCrossEntropy(logits: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  const t = sameShape(logits, target, 'binaryCrossEntropy');
  return reduce(add(sub(relu(logits), mul(logits, t)), softplus(neg(abs(logits)))), options.reduction);
}

/**
 * Softmax cross-entropy from logits [n, classes] (torch.nn.CrossEntropyLoss), against class indices [n]
 * or target probabilities [n, classes]. Fused: one kernel forward, one backward.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, options: LossOptions = {}): Tensor {
  return sce(logits, labels, options.reduction ?? 'mean');
}

/** @internal */
export const LOSSES: Record<LossName, (p: Tensor, t: Tensor, o?: LossOptions) => Tensor> = {
  mse,
  mae,
  huber,
  binaryCrossEntropy,
  softmaxCrossEntropy,
};

/** @internal */
export function getLoss(name: unknown, op: string): (p: Tensor, t: Tensor, o?: LossOptions) => Tensor {
  if (typeof name !== 'string' || !(name in LOSSES))
    throw new RangeError(`${op}: unknown loss '${String(name)}'; use one of ${Object.keys(LOSSES).map((k) => `'${k}'`).join(', ')}.`);
  return LOSSES[name as LossName];
}
