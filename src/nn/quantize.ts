// int8 inference: quantize(model, {weights: 'int8', calibration: x}) turns a trained float model into
// one whose dense layers run the int8 kernels (assembly/qgemm.ts; the contract is QGemmArgs in
// src/core/backend.ts). It predicts through the same API (predict, predictClasses, evaluate, the
// scaler and the rest of the preprocessing), on js, wasm and wasm-threads; webgpu has no int8 kernels
// and is refused with a clear Error.
//
// The scheme, and why:
//  - Weights: int8 in [-127, 127], symmetric, one scale per output column (max |w| / 127). A quarter of
//    the float32 bytes; per-column scales keep small columns precise.
//  - Activations (each quantized layer's input): 7-bit bytes q ∈ [0, 127] with a scale and a zero point,
//    x ≈ s·(q − z), fixed per layer from a calibration set (the range [min(0, lo), max(0, hi)] the float
//    model's layer inputs take on it). After relu the zero point is 0 and all 128 levels cover [0, max].
//    Seven bits because the relaxed-SIMD dot product is only deterministic with one operand in [0, 127]
//    (see assembly/qgemm.ts), and every backend must give the same bits.
//  - Static, not dynamic (per-row scales measured at run time): measured on MNIST 784-512-256-10 (8000
//    training digits, 3 epochs, 2000 test digits) and digits 64-128-10, all of static u7, static u8,
//    dynamic u7 and dynamic u8 landed within 0.15 points of float32 (95.15% f32 → 95.00–95.15%; digits
//    96.1% → 96.1–96.4%), so accuracy does not decide; speed does: static scales let a layer's epilogue
//    write the next layer's bytes directly, where dynamic scales need a float32 output, a pass to find
//    each row's range and a pass to quantize it, per layer.
//  - The float bias and the zero-point correction are folded into one int32 bias per column, so the
//    epilogue is f32(acc + bias)·scale, then the activation (identity, relu and leakyRelu are fused; the
//    others run after, in float32), then the next layer's bytes or the float32 output.
// NaN inputs have no int8 form: they quantize to the zero point (0.0), where a float model would
// predict NaN. Infinities clamp to the ends of the calibrated range.
import { checkOptions, show } from '../core/validate.js';
import { ACTIVATIONS as FUSABLE, Unary, activationOp, type Activation, type UnaryCode } from '../core/optable.js';
import { engine } from '../core/engine.js';
import { Tensor } from '../core/tensor.js';
import { tidy } from '../core/scope.js';
import { MAX_QBIAS, MAX_QK, nearestEven, packedBytes, packedIndex, packWeights, roundUp4 } from '../backend/js/qgemm.js';
import { noGrad } from '../autograd/api.js';
import { needsGrad } from '../autograd/graph.js';
import { tensor, type TensorLike } from '../ops/creation.js';
import { activationAlpha } from '../ops/linalg.js';
import { unaryOp } from '../ops/unary-op.js';
import { reshape } from '../ops/shape.js';
import { assertTensor, backend, fmtShape } from '../ops/util.js';
import { ActivationLayer, Dropout, Layer, Linear, type CustomLayerConfig, type ForwardContext } from './layers.js';
import { Sequential } from './model.js';

/** What save() writes for a quantized dense layer (in the topology metadata). */
export interface QLinearConfig extends CustomLayerConfig {
  /** The layer kind in a saved topology. */
  type: 'qlinear';
  /** Input features. */
  inFeatures: number;
  /** Output features. */
  outFeatures: number;
  /** The activation applied after the dense product. */
  activation: Activation;
  /** Slope of leakyRelu / alpha of elu, when given. */
  alpha?: number;
  /** Whether the layer adds a bias. */
  bias: boolean;
  /** Scale of the layer's input bytes (a float32 value): x ≈ inputScale·(q − inputZero). */
  inputScale: number;
  /** Zero point of the layer's input bytes, an integer in [0, 127]. */
  inputZero: number;
}

/** The quantized values of a dense layer as a file holds them. */
export interface QuantizedParts {
  /** int8 weights [in, out] (row-major), each in [-127, 127]. */
  weight: Int8Array;
  /** Scale of each output column: w ≈ weightScale[j]·weight[i, j]. */
  weightScale: Float32Array;
  /** The float bias, or null. */
  bias: Float32Array | null;
}

/** quantize()'s options. */
export interface QuantizeOptions {
  /** 'int8', the one kind there is. */
  weights: 'int8';
  /**
   * Rows of raw features, as predict() takes them (the model's scaler is applied): the float model runs on
   * them once to measure the range of every layer's input. A few hundred training rows are plenty.
   */
  calibration: Tensor | TensorLike;
}

const FUSED = new Set<Activation>(['linear', 'relu', 'leakyRelu']);
const TRAIN_ERROR = 'a quantized model runs inference only (int8 has no gradients): train the float model, then quantize it again.';

/** The float32 → byte parameters of a layer input: its scale, zero point and 1/scale (what the kernels multiply by). */
function inputQuant(scale: number, zero: number) {
  return { scale, zero, inv: Math.fround(1 / scale) };
}

/**
 * A dense layer with int8 weights: y = act(x·W + b) computed as the int8 product of x's bytes with W's,
 * dequantized, plus the bias, then the activation (assembly/qgemm.ts). Built by quantize() or load();
 * inference only.
 */
export class QuantizedLinear extends Layer {
  readonly type = 'qlinear';
  /** The activation applied after the dense product (relu and leakyRelu fused into the kernel). */
  readonly activation: Activation;
  /** Slope of leakyRelu / alpha of elu, when given. */
  readonly alpha: number | undefined;
  /** Scale of the layer's input bytes: x ≈ inputScale·(q − inputZero). */
  readonly inputScale: number;
  /** Zero point of the layer's input bytes, in [0, 127]. */
  readonly inputZero: number;
  /** Scale of each output column of the weights. */
  readonly weightScale: Float32Array;
  /** The float bias (kept for save), or null. */
  readonly bias: Float32Array | null;
  private readonly inF: number;
  private readonly outF: number;
  /** 1 / inputScale as float32: what the quantizer multiplies by. */
  readonly inputInv: number;
  /** The activation's code when the kernel applies it, else null (it runs after, in float32). */
  private readonly fusedAct: UnaryCode | null;
  private readonly alphaValue: number;
  /** Packed weights, column scales and int32 biases on the backend (storage that holds bytes and int32s). */
  private readonly packed: Tensor;
  private readonly scales: Tensor;
  private readonly biases: Tensor;
  private disposed = false;

  /**
   * From checked parts (checkQuantizedLayer): allocates the backend buffers. Use quantize() or load()
   * rather than this.
   */
  constructor(config: QLinearConfig, parts: QuantizedParts) {
    super();
    const { inFeatures: k, outFeatures: n } = config;
    this.inF = k;
    this.outF = n;
    this.activation = config.activation;
    this.alpha = config.alpha;
    this.alphaValue = activationAlpha(config.activation, config.alpha);
    this.fusedAct = FUSED.has(config.activation) ? Unary[activationOp(config.activation)] : null;
    this.inputScale = config.inputScale;
    this.inputZero = config.inputZero;
    this.inputInv = Math.fround(1 / config.inputScale);
    this.weightScale = parts.weightScale.slice();
    this.bias = parts.bias ? parts.bias.slice() : null;
    const np = roundUp4(n);
    // The column scale (input scale × weight scale) and the int32 bias: the float bias in units of that
    // scale, minus the zero point's share (Σ_p (q_p − z)·w_pj = Σ q_p·w_pj − z·Σ_p w_pj).
    const scale = new Float32Array(np), bias = new Int32Array(np);
    const colSum = new Int32Array(n);
    for (let p = 0; p < k; p++) for (let j = 0, o = p * n; j < n; j++) colSum[j] += parts.weight[o + j];
    for (let j = 0; j < n; j++) {
      scale[j] = columnScale(config.inputScale, parts.weightScale[j]);
      const b = parts.bias ? nearestEven(parts.bias[j] / scale[j]) : 0;
      bias[j] = Math.max(-MAX_QBIAS, Math.min(MAX_QBIAS, b)) - config.inputZero * colSum[j];
    }
    const packed = packWeights(parts.weight, k, n);
    const made: Tensor[] = [];
    try {
      const buf = (data: Float32Array) => {
        const t = new Tensor([data.length], engine.newStorage(data.length), false);
        made.push(t);
        backend().write(t.handle('quantize'), data);
        return t;
      };
      // Bytes and int32s travel as the float32 words that hold their bits (write() copies bits).
      this.packed = buf(new Float32Array(packed.buffer, 0, packedBytes(k, n) / 4));
      this.scales = buf(scale);
      this.biases = buf(new Float32Array(bias.buffer));
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
  }

  override get inFeatures(): number {
    return this.inF;
  }
  outFeatures(inFeatures: number): number {
    if (inFeatures !== this.inF) throw new RangeError(`qlinear: expects ${this.inF} input features, the previous layer gives ${inFeatures}.`);
    return this.outF;
  }
  /** Whether the kernel applies the activation (and can then write the next layer's bytes). */
  get fused(): boolean {
    return this.fusedAct !== null;
  }

  /** Float32 in, float32 out: quantizes x, runs the int8 product, applies the activation. */
  forward(x: Tensor, ctx?: ForwardContext): Tensor {
    this.checkUse(x, ctx);
    const xq = this.quantizeInput(x);
    try {
      return this.finish(this.product(xq, x.shape[0], null));
    } finally {
      xq.dispose();
    }
  }

  /** @internal Checks before a forward pass: a live layer, inference, the input's width. */
  checkUse(x: Tensor, ctx?: ForwardContext): void {
    if (this.disposed) throw new Error('qlinear: the layer was disposed; quantize or load the model again.');
    if (ctx?.training) throw new Error(`fit: ${TRAIN_ERROR}`);
    assertTensor(x, 'qlinear');
    if (x.rank !== 2 || x.shape[1] !== this.inF)
      throw new RangeError(`qlinear: input ${fmtShape(x.shape)} does not fit a layer with ${this.inF} inputs; give [batch, ${this.inF}].`);
    if (needsGrad([x])) throw new Error(`qlinear: gradients do not flow through int8 layers (explain() and autograd need the float model); ${TRAIN_ERROR}`);
  }

  /** @internal x [m, in] (float32) as this layer's input bytes. */
  quantizeInput(x: Tensor): Tensor {
    const be = int8Backend('predict');
    const q = bytes(x.size);
    be.qquantize!(x.size, x.handle('qlinear'), q.handle('qlinear'), this.inputInv, this.inputZero);
    return q;
  }

  /**
   * @internal The int8 product of m rows of input bytes: float32 [m, out] (the fused activation applied),
   * or, given the next layer, that layer's input bytes (requantized in the epilogue).
   */
  product(xq: Tensor, m: number, next: QuantizedLinear | null): Tensor {
    const be = int8Backend('predict');
    const n = this.outF;
    const y = next ? bytes(m * n) : new Tensor([m, n], engine.newStorage(m * n));
    be.qgemm!({
      m, n, k: this.inF, a: xq.handle('qlinear'), lda: this.inF, b: this.packed.handle('qlinear'), c: y.handle('qlinear'), ldc: n,
      scale: this.scales.handle('qlinear'), bias: this.biases.handle('qlinear'),
      act: this.fusedAct ?? Unary.identity, alpha: this.alphaValue,
      out: next ? 'u7' : 'f32', outScale: next ? next.inputInv : 0, outZero: next ? next.inputZero : 0,
    });
    return y;
  }

  /** @internal The float32 output of product() with an unfused activation applied. */
  finish(y: Tensor): Tensor {
    if (this.fusedAct !== null) return y;
    return unaryOp(activationOp(this.activation), y, this.alphaValue);
  }

  /** The int8 weights [in, out], read back from the backend (what save() writes). */
  weights(): Int8Array {
    const k = this.inF, n = this.outF;
    const words = engine.requireBackend().readSync(this.packed.handle('save'), packedBytes(k, n) / 4);
    const packed = new Int8Array(words.buffer, words.byteOffset, packedBytes(k, n));
    const w = new Int8Array(k * n);
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) w[p * n + j] = packed[packedIndex(p, j, k, n)];
    return w;
  }

  config(): QLinearConfig {
    return {
      type: 'qlinear', inFeatures: this.inF, outFeatures: this.outF, activation: this.activation,
      ...(this.alpha !== undefined ? { alpha: this.alpha } : {}), bias: this.bias !== null, inputScale: this.inputScale, inputZero: this.inputZero,
    };
  }

  override dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.packed.dispose();
    this.scales.dispose();
    this.biases.dispose();
  }
}

/** Storage for `count` bytes (a float32 tensor of a quarter the size, at least one word). */
function bytes(count: number): Tensor {
  const words = Math.max(1, Math.ceil(count / 4));
  return new Tensor([words], engine.newStorage(words));
}

/** The active backend, which must have the int8 kernels (else a clear Error naming the fix). */
export function int8Backend(op: string) {
  const be = backend();
  if (!be.qgemm || !be.qquantize)
    throw new Error(`${op}: the ${be.name} backend has no int8 kernels; quantized models run on wasm, wasm-threads and js: init({backend: 'wasm'}) (or keep the float model on ${be.name}).`);
  return be;
}

/** inputScale × weightScale as float32; 0 or Infinity would lose the column, so it is refused. */
function columnScale(inputScale: number, weightScale: number): number {
  return Math.fround(inputScale * weightScale);
}

/**
 * A model whose dense layers are QuantizedLinear layers (quantize() and load() make them). predict()
 * chains consecutive quantized layers through bytes: each layer's epilogue writes the next one's input.
 */
export class QuantizedSequential extends Sequential {
  override forward(x: Tensor, options: { training?: boolean } = {}): Tensor {
    this.check('forward');
    assertTensor(x, 'forward', 'x');
    this.checkInput(x, 'forward');
    if (options.training) throw new Error(`forward: ${TRAIN_ERROR}`);
    const ctx: ForwardContext = { training: false, seed: this.seed, offset: 0 };
    const ls = this.layers, m = x.shape[0];
    let y = x;
    let q: Tensor | null = null; // the next layer's input bytes, when the previous layer wrote them
    for (let i = 0; i < ls.length; i++) {
      const l = ls[i];
      if (!(l instanceof QuantizedLinear)) {
        y = l.forward(y, ctx);
        continue;
      }
      if (!q) l.checkUse(y, ctx);
      const xq = q ?? l.quantizeInput(y);
      const next = ls[i + 1];
      const chained = l.fused && next instanceof QuantizedLinear ? next : null;
      try {
        const out = l.product(xq, m, chained);
        if (chained) q = out;
        else {
          q = null;
          y = l.finish(out);
        }
      } finally {
        xq.dispose();
      }
    }
    return y;
  }

  /** Quantized models are not trained: their layers have no float parameters. */
  override parameters(): Tensor[] {
    this.check('parameters');
    return [];
  }

  override summary(): string {
    const lines = super.summary().split('\n');
    const bytes = this.layers.reduce((s, l) => s + (l instanceof QuantizedLinear ? l.inFeatures * l.outFeatures(l.inFeatures) : 0), 0);
    lines[lines.length - 1] = `int8 weights: ${bytes} (${(bytes / 1024).toFixed(1)} KiB; float32 would be ${((bytes * 4) / 1024).toFixed(1)} KiB)`;
    return lines.join('\n');
  }
}

/**
 * An int8 copy of a trained model for inference: every linear layer becomes a QuantizedLinear (int8
 * weights with a scale per output column; 7-bit activations with scales measured on `calibration`);
 * activation layers stay; dropout layers, which do nothing at inference, are left out. The float model
 * is left as it was. The result predicts through the same API and saves to a file a quarter the size.
 */
export function quantize(model: Sequential, options: QuantizeOptions): QuantizedSequential {
  const op = 'quantize';
  if (!(model instanceof Sequential)) throw new TypeError(`${op}: expects a model (from mlp() or sequential()), got ${model === null ? 'null' : typeof model}.`);
  if (model instanceof QuantizedSequential) throw new Error(`${op}: the model is already quantized; quantize the float model it came from.`);
  model.check(op);
  const o = checkOptions(options, ['weights', 'calibration'], op);
  if (o.weights !== 'int8') throw new RangeError(`${op}: weights must be 'int8' (the one kind there is), got ${show(o.weights)}; call quantize(model, {weights: 'int8', calibration: x}).`);
  int8Backend(op);
  model.layers.forEach((l, i) => {
    if (!(l instanceof Linear || l instanceof ActivationLayer || l instanceof Dropout))
      throw new Error(
        `${op}: layer ${i} is a '${l.type}' layer, which has no int8 form; quantize() takes models of linear, activation and dropout layers ` +
          `(build the model from those, or keep this one in float32).`,
      );
    if (l instanceof Linear && l.inFeatures > MAX_QK)
      throw new RangeError(`${op}: layer ${i} has ${l.inFeatures} inputs; int8 layers take at most ${MAX_QK} (their int32 sums must stay exact). Keep this model in float32.`);
  });
  if (o.calibration === undefined || o.calibration === null)
    throw new Error(
      `${op}: calibration data is needed: the activations are quantized with fixed scales measured on it. Pass {calibration: x} ` +
        `with a few hundred rows of training features (raw, as predict() takes them).`,
    );
  const ranges = calibrate(model, o.calibration, op);

  const layers: Layer[] = [];
  try {
    let r = 0;
    model.layers.forEach((l, i) => {
      if (l instanceof Dropout) return;
      if (!(l instanceof Linear)) {
        const a = l as ActivationLayer;
        layers.push(new ActivationLayer(a.activation, a.alpha));
        return;
      }
      const [lo, hi] = ranges[r++];
      const w = l.weight.dataSync(), b = l.bias ? l.bias.dataSync() : null;
      const parts = quantizeWeights(w, l.inFeatures, l.outFeatures_, b, `${op}: layer ${i}`);
      const { scale, zero } = rangeQuant(lo, hi);
      const config: QLinearConfig = {
        type: 'qlinear', inFeatures: l.inFeatures, outFeatures: l.outFeatures_, activation: l.activation,
        ...(l.alpha !== undefined ? { alpha: l.alpha } : {}), bias: b !== null, inputScale: scale, inputZero: zero,
      };
      checkQuantizedLayer(config, parts, (m) => new Error(`${op}: layer ${i}: ${m}`));
      layers.push(new QuantizedLinear(config, parts));
    });
    const q = new QuantizedSequential(layers, { seed: model.seed });
    q.preprocessing = { ...model.preprocessing };
    return q;
  } catch (e) {
    for (const l of layers) l.dispose();
    throw e;
  }
}

/** [lo, hi] of every linear layer's input over the calibration rows, from the float model (scaler applied). */
function calibrate(model: Sequential, data: Tensor | TensorLike, op: string): [number, number][] {
  return noGrad(() =>
    tidy(() => {
      let x: Tensor;
      try {
        x = data instanceof Tensor ? data : tensor(data as TensorLike);
      } catch (e) {
        throw new TypeError(`${op}: calibration must be rows of features (a Tensor, nested arrays or a Float32Array): ${(e as Error).message}`);
      }
      const n = model.inputSize;
      if (x.rank === 1 && x.shape[0] === n) x = reshape(x, [1, n]);
      if (x.rank !== 2 || x.shape[1] !== n || x.shape[0] === 0)
        throw new RangeError(`${op}: calibration must be [rows, ${n}] with at least one row (the model takes ${n} features), got ${fmtShape(x.shape)}.`);
      finiteOrThrow(x, (at) => `${op}: calibration holds ${at}; give finite feature values (drop or fill the rows with missing values first).`);
      const scaler = model.preprocessing.scaler;
      let h = scaler ? scaler.transform(x) : x;
      const ranges: [number, number][] = [];
      const ctx: ForwardContext = { training: false, seed: model.seed, offset: 0 };
      model.layers.forEach((l, i) => {
        if (l instanceof Linear) {
          ranges.push(finiteOrThrow(h, (at) => `${op}: the float model's input to layer ${i} holds ${at} on the calibration rows${i === 0 && scaler ? ' (after the scaler)' : ''}; such a model cannot be quantized.`));
        }
        h = l.forward(h, ctx);
      });
      return ranges;
    }),
  );
}

/** [min, max] of a tensor's values, or an Error (from `message`) naming the first non-finite one. */
function finiteOrThrow(t: Tensor, message: (at: string) => string): [number, number] {
  const v = t.dataSync();
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x - x !== 0) {
      const cols = t.shape[1] ?? 1;
      throw new Error(message(`${x} at row ${Math.floor(i / cols)}, column ${i % cols}`));
    }
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}

/**
 * The byte scale and zero point of values in [lo, hi]: the range widened to hold 0 (which must be exact:
 * relu zeros, padding), cut into 127 steps. A range too small to matter gets scale 1 (all values → 0).
 */
export function rangeQuant(lo: number, hi: number): { scale: number; zero: number } {
  const a = Math.min(0, lo), b = Math.max(0, hi);
  const scale = Math.fround((b - a) / 127);
  if (!(scale >= 2 ** -100) || !Number.isFinite(1 / scale)) return { scale: 1, zero: 0 };
  const zero = Math.max(0, Math.min(127, Math.round(-a / scale)));
  return { scale, zero };
}

/** Per-column symmetric int8 weights of a float layer w [k, n]. */
export function quantizeWeights(w: Float32Array, k: number, n: number, bias: Float32Array | null, where: string): QuantizedParts {
  const weightScale = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    let m = 0;
    for (let p = 0; p < k; p++) {
      const v = Math.abs(w[p * n + j]);
      if (!(v <= 3.4028234663852886e38)) throw new Error(`${where}: the weight at [${p}, ${j}] is ${w[p * n + j]}; a model with non-finite weights cannot be quantized.`);
      if (v > m) m = v;
    }
    const s = Math.fround(m / 127);
    weightScale[j] = s > 0 ? s : 1; // an all-zero column (or one too small for float32 steps) is all zeros
  }
  const weight = new Int8Array(k * n);
  for (let p = 0; p < k; p++)
    for (let j = 0; j < n; j++) {
      const q = nearestEven(w[p * n + j] / weightScale[j]);
      weight[p * n + j] = q > 127 ? 127 : q < -127 ? -127 : q;
    }
  return { weight, weightScale, bias: bias ? bias.slice() : null };
}

/** Activations a quantized layer may carry: the fused ones of the op table. */
const ACTIVATION_NAMES: readonly string[] = FUSABLE;
const QLINEAR_KEYS = ['type', 'inFeatures', 'outFeatures', 'activation', 'alpha', 'bias', 'inputScale', 'inputZero'];

/**
 * A qlinear layer config from a file, checked field by field (allocates nothing): sizes, the activation,
 * the input scale (a positive, finite float32 whose reciprocal is finite) and zero point (0 … 127).
 */
export function checkQLinearConfig(c: unknown): QLinearConfig {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new TypeError(`a layer config must be an object, got ${show(c)}.`);
  const o = c as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!QLINEAR_KEYS.includes(k)) throw new TypeError(`a qlinear layer has an unknown field ${show(k)}; its fields are ${QLINEAR_KEYS.join(', ')}.`);
  const size = (k: string): number => {
    const n = o[k];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new TypeError(`${k} must be a positive integer, got ${show(n)}.`);
    return n;
  };
  const inFeatures = size('inFeatures'), outFeatures = size('outFeatures');
  if (inFeatures > MAX_QK) throw new RangeError(`inFeatures ${inFeatures} is above the ${MAX_QK} an int8 layer takes.`);
  if (inFeatures * outFeatures > 2 ** 30) throw new RangeError(`a ${inFeatures}×${outFeatures} layer has more than the 2^30 weights a layer may have.`);
  if (typeof o.activation !== 'string' || !ACTIVATION_NAMES.includes(o.activation)) throw new TypeError(`activation must be one of ${ACTIVATION_NAMES.join(', ')}, got ${show(o.activation)}.`);
  if (o.alpha !== undefined && (typeof o.alpha !== 'number' || !Number.isFinite(o.alpha))) throw new TypeError(`alpha must be a finite number, got ${show(o.alpha)}.`);
  if (typeof o.bias !== 'boolean') throw new TypeError(`bias must be true or false, got ${show(o.bias)}.`);
  const s = o.inputScale;
  if (typeof s !== 'number' || Math.fround(s) !== s || !(s > 0) || !Number.isFinite(1 / s) || !Number.isFinite(s))
    throw new TypeError(`inputScale must be a positive float32 number with a finite reciprocal, got ${show(s)}.`);
  const z = o.inputZero;
  if (typeof z !== 'number' || !Number.isInteger(z) || z < 0 || z > 127) throw new TypeError(`inputZero must be an integer in [0, 127], got ${show(z)}.`);
  return {
    type: 'qlinear', inFeatures, outFeatures, activation: o.activation as Activation,
    ...(o.alpha !== undefined ? { alpha: o.alpha as number } : {}), bias: o.bias, inputScale: s, inputZero: z,
  };
}

/**
 * The values of a quantized layer checked against its config (allocates nothing on the backend):
 * shapes, weights in [-127, 127], column scales positive and finite with a float32 product with the input
 * scale that is too, a finite bias.
 */
export function checkQuantizedLayer(c: QLinearConfig, parts: QuantizedParts, fail: (m: string) => Error): void {
  const { inFeatures: k, outFeatures: n } = c;
  if (parts.weight.length !== k * n) throw fail(`the int8 weight has ${parts.weight.length} values, the layer needs ${k}×${n}.`);
  if (parts.weightScale.length !== n) throw fail(`the weight scale has ${parts.weightScale.length} values, the layer needs ${n}.`);
  if (c.bias !== (parts.bias !== null)) throw fail(c.bias ? 'the bias is missing.' : 'the layer says bias: false but has a bias.');
  if (parts.bias && parts.bias.length !== n) throw fail(`the bias has ${parts.bias.length} values, the layer needs ${n}.`);
  for (let i = 0; i < parts.weight.length; i++)
    if (parts.weight[i] === -128) throw fail(`the int8 weight at [${Math.floor(i / n)}, ${i % n}] is -128; weights are symmetric, in [-127, 127].`);
  for (let j = 0; j < n; j++) {
    const s = parts.weightScale[j];
    if (!(s > 0 && s <= 3.4028234663852886e38)) throw fail(`the weight scale of column ${j} is ${s}; scales must be positive and finite.`);
    const cs = columnScale(c.inputScale, s);
    if (!(cs > 0) || !Number.isFinite(cs) || !Number.isFinite(1 / cs))
      throw fail(`column ${j}: the input scale times the weight scale (${c.inputScale}·${s}) is ${cs} in float32; the layer cannot be computed.`);
    if (parts.bias && !Number.isFinite(parts.bias[j])) throw fail(`the bias of column ${j} is ${parts.bias[j]}; a model with non-finite weights predicts NaN or infinities.`);
  }
}

/** Whether a (checked) layer config is an int8 layer's. */
export const isQuantizedConfig = (c: { type: string }): c is QLinearConfig => c.type === 'qlinear';
