import { checkOptions } from '../core/validate.js';
import { noGrad, zeroGrad } from '../autograd/api.js';
import { release, toTensor, type TensorInput } from '../ops/creation.js';
import { argmax, softmax } from '../ops/reduce.js';
import { exp, sigmoid } from '../ops/unary.js';
import { grouped, inspectAs } from '../core/format.js';
import { reshape } from '../ops/shape.js';
import { assertTensor, backend, fmtShape } from '../ops/util.js';
import { tidy } from '../core/scope.js';
import { Tensor } from '../core/tensor.js';
import { ActivationLayer, Dropout, Linear, layerFromConfig, type CustomLayerConfig, type ForwardContext, type Layer, type LayerConfig, type Init, type LayerActivation } from './layers.js';
import type { Activation } from '../ops/linalg.js';
import { ForwardPrograms } from './predict.js';

/** A fitted feature scaler as data.standardize()/data.minMaxScale() return it. */
export interface ScalerLike {
  /** Scales raw features as the model was trained on them. */
  transform(x: Tensor): Tensor;
  /** The scaler as JSON (saved with the model). */
  toJSON(): unknown;
}

/**
 * What travels with a model besides its weights: the scaler fitted on the training features (applied
 * by fit, predict and evaluate, so they all take raw features), the class names, the feature and target
 * names, and the CSV encoding that turns raw rows into features.
 */
export interface Preprocessing {
  /** The scaler fitted on the training features (fit, predict and evaluate apply it). */
  scaler?: ScalerLike | null;
  /** Class names in index order. */
  classes?: string[] | null;
  /** The feature names. */
  columns?: string[] | null;
  /** The target column's name. */
  target?: string | null;
  /** Classification or regression (predictProba refuses regression). */
  task?: 'classification' | 'regression' | null;
  /** The CSV encoding of raw rows (a Dataset's encoding). */
  encoding?: unknown;
}

/** A model's topology as save() stores it. */
export interface ModelConfig {
  /** Each layer's config, in order. */
  layers: (LayerConfig | CustomLayerConfig)[];
  /** The model's seed. */
  seed: number;
}

const scalerIds = new WeakMap<object, number>();
let nextScalerId = 1;
function scalerId(s: ScalerLike | null | undefined): number {
  if (!s) return 0;
  let id = scalerIds.get(s);
  if (!id) scalerIds.set(s, (id = nextScalerId++));
  return id;
}

/** A stack of layers applied in order: the model type of simdnn. */
export class Sequential {
  /** The layers, in order. */
  readonly layers: Layer[];
  /** Seed of the initial weights and of dropout. */
  readonly seed: number;
  /** What travels with the model besides its weights (scaler, class and column names, encoding). */
  preprocessing: Preprocessing = {};
  /** Set to true (e.g. from a callback) to end fit() after the current batch. */
  stopTraining = false;
  private dropoutOffset = 0;
  private disposed = false;
  /** predict()'s recorded forward passes (nn/predict.ts). */
  private readonly programs = new ForwardPrograms(
    (x) => {
      const scaler = this.preprocessing.scaler;
      return this.forward(scaler ? scaler.transform(x) : x);
    },
    // What a recorded pass depends on besides the weights' values.
    () => `${this.layers.length}:${scalerId(this.preprocessing.scaler)}`,
  );
  /** predictProba()'s: the same pass with the probability head after it, recorded as one program. */
  private readonly probaPrograms = new ForwardPrograms(
    (x) => {
      const scaler = this.preprocessing.scaler;
      return this.probabilities(this.forward(scaler ? scaler.transform(x) : x));
    },
    () => `${this.layers.length}:${scalerId(this.preprocessing.scaler)}`,
  );

  constructor(layers: Layer[], options: { seed?: number } = {}) {
    if (!Array.isArray(layers) || layers.length === 0) throw new TypeError('sequential: give a non-empty array of layers, e.g. [layers.linear(4, 8, {activation: "relu"}), layers.linear(8, 3)].');
    layers.forEach((l, i) => {
      if (!l || typeof (l as Layer).forward !== 'function') throw new TypeError(`sequential: entry ${i} is not a layer (use the constructors in layers).`);
    });
    this.layers = layers.slice();
    this.seed = options.seed ?? 0;
    // Check the chain of feature counts now rather than at the first batch.
    let n = this.inputSize;
    for (const l of this.layers) n = l.outFeatures(n);
  }

  /** Input features (from the first layer that knows its input width, e.g. the first linear layer). */
  get inputSize(): number {
    const first = this.layers.find((l) => typeof l.inFeatures === 'number');
    if (!first) throw new Error('sequential: no layer of the model declares its input features (a linear layer does), so its input size is unknown.');
    return first.inFeatures!;
  }

  /** Outputs per row (classes for a classifier). */
  get outputSize(): number {
    let n = this.inputSize;
    for (const l of this.layers) n = l.outFeatures(n);
    return n;
  }

  /** Trainable tensors in layer order [W1, b1, W2, b2, …]. */
  parameters(): Tensor[] {
    this.check('parameters');
    return this.layers.flatMap((l) => l.params());
  }

  /** Parameter names as saved: layers.{i}.weight / layers.{i}.bias. */
  parameterNames(): string[] {
    return this.layers.flatMap((l, i) => l.paramNames().map((n) => `layers.${i}.${n}`));
  }

  /** Forward pass through the autograd ops (records a graph when parameters require gradients). */
  forward(x: Tensor, options: { training?: boolean } = {}): Tensor {
    this.check('forward');
    assertTensor(x, 'forward', 'x');
    this.checkInput(x, 'forward');
    const ctx: ForwardContext = { training: !!options.training, seed: this.seed, offset: this.dropoutOffset };
    let y = x;
    for (const l of this.layers) y = l.forward(y, ctx);
    this.dropoutOffset = ctx.offset;
    return y;
  }

  /**
   * The model's raw outputs for raw features x [n, inputs] (the attached scaler is applied), without
   * gradients: **logits** for a classifier trained with a cross-entropy loss (use predictProba() for
   * probabilities, predictClasses() for class indices), values for a regression model. As PyTorch's
   * `model(x)` under `torch.no_grad()`, or Keras' `model.predict(x)` on a model without a final softmax.
   *
   * x is any TensorInput: a tensor, nested arrays, a typed array with its shape ({data, shape}), or a
   * single row as a Float32Array. The forward pass of each batch size is recorded once and replayed
   * after (nn/predict.ts). The result is a new [n, outputs] tensor: dispose it.
   */
  predict(x: TensorInput): Tensor {
    return this.run(x, this.programs, 'predict');
  }

  /**
   * Class probabilities for raw features x: softmax of the logits over the classes, [n, classes], each
   * row summing to 1; for a model with one output, the sigmoid of its logit, [n, 1], the probability of
   * class 1. A model that already ends in softmax or sigmoid is not squashed twice (logSoftmax is
   * exponentiated). As scikit-learn's `predict_proba` (which gives binary models two columns) and Keras'
   * `predict` on a softmax model. The head runs inside the recorded forward pass, so it costs one more
   * kernel per call. A regression model (preprocessing.task 'regression') is an error.
   */
  predictProba(x: TensorInput): Tensor {
    if (this.preprocessing.task === 'regression')
      throw new Error("predictProba: this is a regression model (preprocessing.task is 'regression'), so its outputs are values, not classes; use predict().");
    return this.run(x, this.probaPrograms, 'predictProba');
  }

  private run(x: TensorInput, programs: ForwardPrograms, op: string): Tensor {
    this.check(op);
    // One row of raw features, the common case of serving: no input tensor at all.
    if (x instanceof Float32Array && x.length === this.inputSize) return programs.runRow(x, this.outputSize);
    const input = toTensor(x, op, 'x');
    try {
      return noGrad(() =>
        tidy(() => {
          let t = input.t;
          t.handle(op);
          if (t.rank === 1 && t.shape[0] === this.inputSize) t = reshape(t, [1, this.inputSize]);
          this.checkInput(t, op);
          if (t.shape[0] === 0) return programs === this.probaPrograms ? this.probabilities(this.forward(t)) : this.forward(t);
          return programs.run(t, this.outputSize);
        }),
      );
    } finally {
      release(input);
    }
  }

  /** The probability head for the model's outputs y (predictProba). */
  private probabilities(y: Tensor): Tensor {
    const last = this.layers[this.layers.length - 1];
    const act = last instanceof ActivationLayer ? last.activation : last instanceof Linear ? last.activation : null;
    if (this.outputSize === 1) return act === 'sigmoid' ? y : sigmoid(y);
    if (act === 'softmax') return y;
    if (act === 'logSoftmax') return exp(y);
    return softmax(y, 1);
  }

  /**
   * Class indices, one per row: the argmax of the outputs; for one output, output > 0.5 after a sigmoid
   * or > 0 for a logit. As scikit-learn's `predict` of a classifier.
   */
  predictClasses(x: TensorInput): number[] {
    return tidy(() => {
      const y = this.predict(x);
      if (y.shape[1] === 1) {
        const last = this.layers[this.layers.length - 1];
        const threshold = last.config().type === 'activation' && (last.config() as any).activation === 'sigmoid' ? 0.5 : 0;
        return Array.from(y.dataSync(), (v) => (v > threshold ? 1 : 0));
      }
      return Array.from(argmax(y, 1).dataSync());
    });
  }

  /** The weights as copies, in layer order [W1, b1, W2, b2, …]; W is [in, out] row-major. */
  getWeights(): Float32Array[] {
    return this.parameters().map((p) => p.dataSync());
  }

  /** Replaces the weights (same order and sizes as getWeights()). */
  setWeights(weights: ArrayLike<number>[]): void {
    const params = this.parameters();
    if (!Array.isArray(weights) || weights.length !== params.length)
      throw new RangeError(`setWeights: expected ${params.length} arrays (${this.parameterNames().join(', ')}), got ${Array.isArray(weights) ? weights.length : typeof weights}.`);
    weights.forEach((w, i) => {
      if (!w || w.length !== params[i].size)
        throw new RangeError(`setWeights: ${this.parameterNames()[i]} needs ${params[i].size} values (shape ${fmtShape(params[i].shape)}), got ${w ? w.length : String(w)}.`);
    });
    weights.forEach((w, i) => backend().write(params[i].handle('setWeights'), w instanceof Float32Array ? w : Float32Array.from(w)));
  }

  /** Frees the parameters' gradients (before a new backward pass in a hand-written loop). */
  zeroGrad(): void {
    for (const p of this.parameters()) zeroGrad(p);
  }

  /** The topology (layers and seed), as save() stores it. */
  config(): ModelConfig {
    return { layers: this.layers.map((l) => l.config()), seed: this.seed };
  }

  /** A readable table of the layers, their output sizes and parameter counts. */
  summary(): string {
    let n = this.inputSize, total = 0;
    const rows = [['#', 'layer', 'output', 'params']];
    this.layers.forEach((l, i) => {
      n = l.outFeatures(n);
      const c = l.config();
      const count = l.params().reduce((s, p) => s + p.size, 0);
      total += count;
      const desc = l instanceof Linear ? `linear ${l.inFeatures}→${n}${l.activation !== 'linear' ? ` + ${l.activation}` : ''}` : l instanceof ActivationLayer ? l.activation : l instanceof Dropout ? `dropout ${l.rate}` : c.type;
      rows.push([String(i), desc, `[batch, ${n}]`, String(count)]);
    });
    const w = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
    const lines = rows.map((r) => r.map((v, j) => (j === 3 ? v.padStart(w[j]) : v.padEnd(w[j]))).join('  '));
    return [...lines, `total parameters: ${total}`].join('\n');
  }

  /**
   * The model as text, one layer a line, as PyTorch prints a module:
   * `Sequential(64 → 10, 9,610 parameters)` then `(0) Linear(64 → 128, relu)`, … and what its
   * preprocessing holds. `console.log(model)` shows the same.
   */
  toString(): string {
    if (this.disposed) return 'Sequential(disposed)';
    let count = 0;
    for (const l of this.layers) for (const p of l.params()) count += p.size;
    const lines = [`Sequential(${this.inputSize} → ${this.outputSize}, ${grouped(count)} parameters)`];
    this.layers.forEach((l, i) => lines.push(`  (${i}) ${l.toString()}`));
    const p = this.preprocessing;
    const pre: string[] = [];
    if (p.scaler) pre.push(`scaler ${(p.scaler as { kind?: string }).kind ?? 'custom'}`);
    if (p.classes?.length) pre.push(`classes ${p.classes.length > 6 ? `${p.classes.slice(0, 6).join(', ')}, … (${p.classes.length})` : p.classes.join(', ')}`);
    if (p.target) pre.push(`target ${p.target}`);
    if (pre.length) lines.push(`  preprocessing: ${pre.join('; ')}`);
    return lines.join('\n');
  }

  /** Frees the parameters, their gradients and the recorded forward passes. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.programs.clear();
    this.probaPrograms.clear();
    for (const l of this.layers) l.dispose();
  }

  /** Whether dispose() was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** @internal */
  check(op: string): void {
    if (this.disposed) throw new Error(`${op}: the model was disposed; build or load it again.`);
  }

  /** @internal */
  checkInput(x: Tensor, op: string): void {
    const n = this.inputSize;
    if (x.rank !== 2 || x.shape[1] !== n)
      throw new RangeError(`${op}: the model takes ${n} feature${n === 1 ? '' : 's'} per row, got x of shape ${fmtShape(x.shape)}; give [rows, ${n}].`);
  }

  /** @internal */
  get hasDropout(): boolean {
    return this.layers.some((l) => l instanceof Dropout && l.rate > 0);
  }
}

/** The options of mlp(). */
export interface MlpOptions {
  /** Hidden activation (default 'relu'). */
  activation?: Activation;
  /** Output activation (default 'linear': logits for the cross-entropy losses, values for regression). */
  outputActivation?: LayerActivation;
  /** Dropout rate after each hidden layer (default 0). */
  dropout?: number;
  /** Seed of the initial weights and dropout masks (default 0). */
  seed?: number;
  /** Weight initialisation (default: 'he' for relu-like activations, 'glorot' otherwise). */
  init?: Init;
  /** Slope of leakyRelu / alpha of elu. */
  alpha?: number;
}

const MLP_KEYS = new Set(['activation', 'outputActivation', 'dropout', 'seed', 'init', 'alpha']);

inspectAs(Sequential.prototype);

/** A multilayer perceptron: mlp([inputs, ...hidden, outputs], options). */
export function mlp(sizes: number[], options: MlpOptions = {}): Sequential {
  const op = 'mlp';
  if (!Array.isArray(sizes) || sizes.length < 2)
    throw new TypeError(`${op}: sizes must be an array [inputs, ...hidden, outputs] with at least two entries, e.g. mlp([64, 128, 10]).`);
  sizes.forEach((n, i) => {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new RangeError(`${op}: sizes[${i}] must be a positive integer, got ${String(n)}.`);
  });
  checkOptions(options, [...MLP_KEYS], op);
  const { activation = 'relu', outputActivation = 'linear', dropout = 0, seed = 0, init, alpha } = options;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new RangeError(`${op}: dropout must be a rate in [0, 1), got ${String(dropout)}.`);
  const ls: Layer[] = [];
  try {
    for (let i = 0; i + 1 < sizes.length; i++) {
      const last = i + 2 === sizes.length;
      const fused = last ? (outputActivation === 'softmax' || outputActivation === 'logSoftmax' ? 'linear' : outputActivation) : activation;
      ls.push(new Linear(sizes[i], sizes[i + 1], { activation: fused as Activation, alpha, init, seed: (seed * 1000003 + i) % 2 ** 52 }));
      if (last && fused !== outputActivation) ls.push(layerFromConfig({ type: 'activation', activation: outputActivation }));
      if (!last && dropout > 0) ls.push(new Dropout(dropout));
    }
    return new Sequential(ls, { seed });
  } catch (e) {
    // A bad option or out of memory in a later layer: free the parameters the earlier layers allocated.
    for (const l of ls) l.dispose();
    throw e;
  }
}

/** A model from a list of layers. */
export function sequential(layers: Layer[], options: { seed?: number } = {}): Sequential {
  return new Sequential(layers, options);
}
