// The method sugar of the public API, in one place: every op is also a Tensor method (x.relu(),
// a.matmul(b), x.sum(1)), and fit/evaluate are model methods. Internal code calls the functions; this
// file is imported only by the API's entry (index.ts).
import * as ew from './ops/elementwise.js';
import * as la from './ops/linalg.js';
import * as rd from './ops/reduce.js';
import * as sh from './ops/shape.js';
import { Tensor } from './tensor.js';
import { backward, type BackwardOptions } from './autograd/graph.js';
import { Sequential } from './nn/model.js';
import type { TensorLike } from './ops/creation.js';
import { fit, type FitOptions, type History } from './train/fit.js';
import { evaluate, type EvaluateOptions, type EvaluateResult } from './train/evaluate.js';

type Operand = ew.Operand;

declare module './tensor.js' {
  interface Tensor {
    add(b: Operand): Tensor;
    sub(b: Operand): Tensor;
    mul(b: Operand): Tensor;
    div(b: Operand): Tensor;
    maximum(b: Operand): Tensor;
    minimum(b: Operand): Tensor;
    pow(b: Operand): Tensor;
    greater(b: Operand): Tensor;
    greaterEqual(b: Operand): Tensor;
    equal(b: Operand): Tensor;
    relu(): Tensor;
    leakyRelu(slope?: number): Tensor;
    elu(alpha?: number): Tensor;
    gelu(): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    square(): Tensor;
    softplus(): Tensor;
    reciprocal(): Tensor;
    sign(): Tensor;
    affine(alpha: number, beta?: number): Tensor;
    scale(alpha: number): Tensor;
    matmul(b: Tensor, options?: la.MatmulOptions): Tensor;
    sum(axis?: rd.Axis, keepDims?: boolean): Tensor;
    mean(axis?: rd.Axis, keepDims?: boolean): Tensor;
    max(axis?: rd.Axis, keepDims?: boolean): Tensor;
    min(axis?: rd.Axis, keepDims?: boolean): Tensor;
    argmax(axis?: number, keepDims?: boolean): Tensor;
    argmin(axis?: number, keepDims?: boolean): Tensor;
    sumSquares(axis?: rd.Axis, keepDims?: boolean): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    reshape(shape: readonly number[]): Tensor;
    flatten(): Tensor;
    transpose(): Tensor;
    clone(): Tensor;
    detach(): Tensor;
    /** Backpropagates from this single-value tensor into the .grad of every leaf that requires it. */
    backward(options?: BackwardOptions): void;
    /** Disposes .grad (before the next accumulation). */
    zeroGrad(): void;
  }
}

const P = Tensor.prototype;
const binary = { add: ew.add, sub: ew.sub, mul: ew.mul, div: ew.div, maximum: ew.maximum, minimum: ew.minimum, pow: ew.pow, greater: ew.greater, greaterEqual: ew.greaterEqual, equal: ew.equal };
for (const [name, fn] of Object.entries(binary)) (P as any)[name] = function (this: Tensor, b: Operand) { return fn(this, b); };
const unary = { relu: ew.relu, gelu: ew.gelu, sigmoid: ew.sigmoid, tanh: ew.tanh, exp: ew.exp, log: ew.log, sqrt: ew.sqrt, neg: ew.neg, abs: ew.abs, square: ew.square, softplus: ew.softplus, reciprocal: ew.reciprocal, sign: ew.sign, flatten: sh.flatten, transpose: sh.transpose, clone: sh.clone, detach: sh.detach };
for (const [name, fn] of Object.entries(unary)) (P as any)[name] = function (this: Tensor) { return fn(this); };
P.leakyRelu = function (slope?: number) { return ew.leakyRelu(this, slope); };
P.elu = function (alpha?: number) { return ew.elu(this, alpha); };
P.affine = function (alpha: number, beta?: number) { return ew.affine(this, alpha, beta); };
P.scale = function (alpha: number) { return ew.scale(this, alpha); };
P.matmul = function (b: Tensor, options?: la.MatmulOptions) { return la.matmul(this, b, options); };
const reducers = { sum: rd.sum, mean: rd.mean, max: rd.max, min: rd.min, argmax: rd.argmax, argmin: rd.argmin, sumSquares: rd.sumSquares };
for (const [name, fn] of Object.entries(reducers)) (P as any)[name] = function (this: Tensor, axis?: any, keepDims?: boolean) { return (fn as any)(this, axis, keepDims); };
P.softmax = function (axis?: number) { return rd.softmax(this, axis); };
P.logSoftmax = function (axis?: number) { return rd.logSoftmax(this, axis); };
P.reshape = function (shape: readonly number[]) { return sh.reshape(this, shape); };
P.backward = function (options?: BackwardOptions) { backward(this, options); };
P.zeroGrad = function () { this.grad?.dispose(); this.grad = null; };

// model.fit(...) and model.evaluate(...): the same sugar for models.
declare module './nn/model.js' {
  interface Sequential {
    /** Trains the model; see fit() and FitOptions. */
    fit(x: Tensor | TensorLike, y: Tensor | TensorLike, options: FitOptions): Promise<History>;
    /** The loss (and accuracy) on labelled data; see evaluate(). */
    evaluate(x: Tensor | TensorLike, y: Tensor | TensorLike, options: EvaluateOptions): Promise<EvaluateResult>;
  }
}
Sequential.prototype.fit = function (x, y, options) {
  return fit(this, x, y, options);
};
Sequential.prototype.evaluate = function (x, y, options) {
  return evaluate(this, x, y, options);
};
