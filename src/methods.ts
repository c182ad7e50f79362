// The method sugar of the public API, in one place: every op is also a Tensor method (x.relu(),
// a.matmul(b), x.sum(1)), and fit/evaluate are model methods. Internal code calls the functions; this
// file is imported only by the API's entry (index.ts). The unary and binary methods come from the op
// table (src/core/optable.ts): its names give both the methods and their types.
import { BINARY_NAMES, PUBLIC_UNARY, binaryApiName, type BinaryApiName, type ParamUnaryName, type PublicUnaryName } from './core/optable.js';
import * as ew from './ops/elementwise.js';
import * as un from './ops/unary.js';
import * as la from './ops/linalg.js';
import * as rd from './ops/reduce.js';
import * as sh from './ops/shape.js';
import { Tensor } from './core/tensor.js';
import { backward, type BackwardOptions } from './autograd/graph.js';
import { zeroGrad } from './autograd/api.js';
import { Sequential } from './nn/model.js';
import type { TensorInput } from './ops/creation.js';
import { fit, type FitOptions, type History } from './train/fit.js';
import { evaluate, type EvaluateOptions, type EvaluateResult } from './train/evaluate.js';

type Operand = ew.Operand;

/** x.relu(), x.leakyRelu(slope?), …: one method per public unary op of the table. */
type UnaryMethods = { [K in PublicUnaryName]: K extends ParamUnaryName ? (param?: number) => Tensor : () => Tensor };
/** a.add(b), a.maximum(b), …: one method per binary op of the table, under its public name. */
type BinaryMethods = { [K in BinaryApiName]: (b: Operand) => Tensor };

// The public functions of ./ops/unary.ts, one per public unary op: a table entry without one is a type error.
const unaryFns: { readonly [K in PublicUnaryName]: K extends ParamUnaryName ? (x: Tensor, param?: number) => Tensor : (x: Tensor) => Tensor } = un;
const binaryFns: { readonly [K in BinaryApiName]: (a: Operand, b: Operand) => Tensor } = ew;

declare module './core/tensor.js' {
  interface Tensor extends UnaryMethods, BinaryMethods {
    /** alpha·x + beta, elementwise (affine()). */
    affine(alpha: number, beta?: number): Tensor;
    /** alpha·x (scale()). */
    scale(alpha: number): Tensor;
    /** The matrix product with b (matmul()). */
    matmul(b: Tensor, options?: la.MatmulOptions): Tensor;
    /** The sum over axis (all axes by default) (sum()). */
    sum(axis?: rd.Axis, keepDims?: boolean): Tensor;
    /** The mean over axis (mean()). */
    mean(axis?: rd.Axis, keepDims?: boolean): Tensor;
    /** The maximum over axis (max()). */
    max(axis?: rd.Axis, keepDims?: boolean): Tensor;
    /** The minimum over axis (min()). */
    min(axis?: rd.Axis, keepDims?: boolean): Tensor;
    /** The index of the maximum along axis (argmax()). */
    argmax(axis?: number, keepDims?: boolean): Tensor;
    /** The index of the minimum along axis (argmin()). */
    argmin(axis?: number, keepDims?: boolean): Tensor;
    /** The sum of squares over axis (sumSquares()). */
    sumSquares(axis?: rd.Axis, keepDims?: boolean): Tensor;
    /** Softmax along axis (softmax()). */
    softmax(axis?: number): Tensor;
    /** Log-softmax along axis (logSoftmax()). */
    logSoftmax(axis?: number): Tensor;
    /** The same values in a new shape (reshape()). */
    reshape(shape: readonly number[]): Tensor;
    /** The values as one axis (flatten()). */
    flatten(): Tensor;
    /** The transpose of a 2-D tensor (transpose()). */
    transpose(): Tensor;
    /** A copy (clone()). */
    clone(): Tensor;
    /** The same values, cut from the autograd graph (detach()). */
    detach(): Tensor;
    /** Backpropagates from this single-value tensor into the .grad of every leaf that requires it. */
    backward(options?: BackwardOptions): void;
    /** Disposes .grad (before the next accumulation). */
    zeroGrad(): void;
  }
}

const P = Tensor.prototype;
for (const name of PUBLIC_UNARY) {
  const fn = unaryFns[name] as (x: Tensor, param?: number) => Tensor;
  (P as any)[name] = function (this: Tensor, param?: number) { return fn(this, param); };
}
for (const k of BINARY_NAMES) {
  const name = binaryApiName(k), fn = binaryFns[name];
  (P as any)[name] = function (this: Tensor, b: Operand) { return fn(this, b); };
}
const noArgs = { flatten: sh.flatten, transpose: sh.transpose, clone: sh.clone, detach: sh.detach };
for (const [name, fn] of Object.entries(noArgs)) (P as any)[name] = function (this: Tensor) { return fn(this); };
P.affine = function (alpha: number, beta?: number) { return ew.affine(this, alpha, beta); };
P.scale = function (alpha: number) { return ew.scale(this, alpha); };
P.matmul = function (b: Tensor, options?: la.MatmulOptions) { return la.matmul(this, b, options); };
const reducers = { sum: rd.sum, mean: rd.mean, max: rd.max, min: rd.min, argmax: rd.argmax, argmin: rd.argmin, sumSquares: rd.sumSquares };
for (const [name, fn] of Object.entries(reducers)) (P as any)[name] = function (this: Tensor, axis?: any, keepDims?: boolean) { return (fn as any)(this, axis, keepDims); };
P.softmax = function (axis?: number) { return rd.softmax(this, axis); };
P.logSoftmax = function (axis?: number) { return rd.logSoftmax(this, axis); };
P.reshape = function (shape: readonly number[]) { return sh.reshape(this, shape); };
P.backward = function (options?: BackwardOptions) { backward(this, options); };
P.zeroGrad = function () { zeroGrad(this); };

// model.fit(...) and model.evaluate(...): the same sugar for models.
declare module './nn/model.js' {
  interface Sequential {
    /** Trains the model; see fit() and FitOptions. */
    fit(x: TensorInput, y: TensorInput, options: FitOptions): Promise<History>;
    /** The loss (and accuracy) on labelled data; see evaluate(). */
    evaluate(x: TensorInput, y: TensorInput, options: EvaluateOptions): Promise<EvaluateResult>;
  }
}
Sequential.prototype.fit = function (x, y, options) {
  return fit(this, x, y, options);
};
Sequential.prototype.evaluate = function (x, y, options) {
  return evaluate(this, x, y, options);
};
