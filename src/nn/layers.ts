import { inspectAs } from '../core/format.js';
import { checkOptions } from '../core/validate.js';
import { ACTIVATIONS as FUSED, UNARY, Unary, activationOp, type Activation, type ParamUnaryName, type UnaryCode, type UnaryDesc } from '../core/optable.js';
import { continueStream, rng, type Rng } from '../core/random.js';
import { dropout } from '../ops/dropout.js';
import { unaryOp } from '../ops/unary-op.js';
import { activationAlpha, dense } from '../ops/linalg.js';
import { logSoftmax, softmax } from '../ops/reduce.js';
import { assertTensor, backend, empty, fmtShape } from '../ops/util.js';
import { engine } from '../core/engine.js';
import { Tensor } from '../core/tensor.js';

/** Activations a layer can apply: the fused dense ones plus softmax and logSoftmax along the last axis. */
export type LayerActivation = Activation | 'softmax' | 'logSoftmax';

/** Weight initialisation: He (Kaiming) normal, Glorot (Xavier) uniform, LeCun normal, or PyTorch's default. */
export type Init = 'he' | 'glorot' | 'lecun' | 'torch';

/** What the layer knows while running forward. */
export interface ForwardContext {
  training: boolean;
  /** Seed of the dropout masks; `offset` advances by the number of elements of every mask drawn. */
  seed: number;
  offset: number;
}

/** A custom layer's saved description: its type and whatever its constructor needs. */
export interface CustomLayerConfig {
  type: string;
  [key: string]: unknown;
}

/** What a built-in layer's config() returns and save() stores. */
export type LayerConfig =
  | { type: 'linear'; inFeatures: number; outFeatures: number; activation: Activation; alpha?: number; bias: boolean }
  | { type: 'activation'; activation: LayerActivation; alpha?: number }
  | { type: 'dropout'; rate: number };

/**
 * A layer: a forward pass composed from the ops, and its parameters. Subclass it to write your own; any
 * layer trains with fit(), which records the forward pass through the ops and replays it (see
 * examples/custom-layer.mjs). forward() must be a function of its input, the parameters and the context
 * alone, with the same ops for the same input shape: no reading values back to decide what to compute,
 * no random numbers other than dropout's (ctx.seed, ctx.offset), since a recorded step is replayed as it
 * ran the first time.
 */
export abstract class Layer {
  /** The layer's kind ('linear', 'activation', 'dropout', or the name a custom layer gives itself). */
  abstract readonly type: string;
  /**
   * Input features, for a layer that knows them (a model's input size comes from its first such layer).
   * Layers that keep the width (activations, dropout) leave it undefined.
   */
  get inFeatures(): number | undefined {
    return undefined;
  }
  /** Trainable tensors, in save order. */
  params(): Tensor[] {
    return [];
  }
  /** Names of params() in a saved file. */
  paramNames(): string[] {
    return [];
  }
  /** The layer's output for x (through the ops, so autograd and fit's recording see it). */
  abstract forward(x: Tensor, ctx: ForwardContext): Tensor;
  /** Output features for `inFeatures` input features (throws when they don't fit). */
  abstract outFeatures(inFeatures: number): number;
  /** What save() stores to rebuild the layer (a custom layer gives its own; see layers.register). */
  abstract config(): LayerConfig | CustomLayerConfig;
  /** Frees the layer's parameters. */
  dispose(): void {
    for (const p of this.params()) p.dispose();
  }
  /** One line, from config(): `Linear(64 → 128, relu)`, `Dropout(0.1)`, `Activation(softmax)`, or a custom layer's type and settings. */
  toString(): string {
    return describeLayer(this.config());
  }
}
inspectAs(Layer.prototype);

/** A layer's config as one line (Layer.toString). */
function describeLayer(c: LayerConfig | CustomLayerConfig): string {
  const alpha = (v: unknown) => (v === undefined ? '' : `, alpha=${v}`);
  switch (c.type) {
    case 'linear': {
      const l = c as Extract<LayerConfig, { type: 'linear' }>;
      return `Linear(${l.inFeatures} → ${l.outFeatures}${l.activation !== 'linear' ? `, ${l.activation}` : ''}${alpha(l.alpha)}${l.bias ? '' : ', bias=false'})`;
    }
    case 'activation': {
      const l = c as Extract<LayerConfig, { type: 'activation' }>;
      return `Activation(${l.activation}${alpha(l.alpha)})`;
    }
    case 'dropout':
      return `Dropout(${(c as Extract<LayerConfig, { type: 'dropout' }>).rate})`;
    default: {
      const rest = Object.entries(c).filter(([k]) => k !== 'type').map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
      return `${c.type}(${rest.join(', ')})`;
    }
  }
}

const ACTIVATIONS: readonly string[] = [...FUSED, 'softmax', 'logSoftmax'];

function checkActivation(a: unknown, op: string): LayerActivation {
  if (typeof a !== 'string' || !ACTIVATIONS.includes(a))
    throw new RangeError(`${op}: unknown activation '${String(a)}'; use one of ${ACTIVATIONS.join(', ')}.`);
  return a as LayerActivation;
}

function checkSize(n: unknown, op: string, name: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new RangeError(`${op}: ${name} must be a positive integer, got ${String(n)}.`);
  return n;
}

/** The options of layers.linear (and new Linear). */
export interface LinearOptions {
  /** Activation fused after x·W + b (default 'linear': none). */
  activation?: Activation;
  /** Slope of leakyRelu (default 0.01) or alpha of elu (default 1). */
  alpha?: number;
  /** Whether the layer has a bias (default true). */
  bias?: boolean;
  /** Default: 'he' for relu-like activations, 'glorot' otherwise. */
  init?: Init;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

const LINEAR_KEYS = ['activation', 'alpha', 'bias', 'init', 'seed'];

/** @internal A linear layer's parameter values, as load() reads them from a file. */
export interface LinearValues {
  weight: Float32Array;
  bias: Float32Array | null;
}

/** A dense layer y = act(x·W + b), W [in, out]; one fused gemm with a bias and activation epilogue. */
export class Linear extends Layer {
  readonly type = 'linear';
  private readonly inFeatures_: number;
  /** @internal */
  readonly outFeatures_: number;
  /** The fused activation. */
  readonly activation: Activation;
  /** Slope of leakyRelu / alpha of elu, when set. */
  readonly alpha: number | undefined;
  /** The weights W [in, out]. */
  readonly weight: Tensor;
  /** The bias b [out], or null without one. */
  readonly bias: Tensor | null;

  /** @param values @internal the parameters' values (load()), instead of drawing them */
  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}, values?: LinearValues) {
    super();
    const op = 'layers.linear';
    checkOptions(options, LINEAR_KEYS, op);
    this.inFeatures_ = checkSize(inFeatures, op, 'inFeatures');
    this.outFeatures_ = checkSize(outFeatures, op, 'outFeatures');
    const act = checkActivation(options.activation ?? 'linear', op);
    if (act === 'softmax' || act === 'logSoftmax') throw new RangeError(`${op}: ${act} cannot be fused into a linear layer; add layers.activation('${act}') after it.`);
    this.activation = act;
    this.alpha = options.alpha;
    const init = options.init ?? ((UNARY[activationOp(act)] as UnaryDesc).he ? 'he' : 'glorot');
    // Refused before the weights are allocated: a huge layer would otherwise exhaust the JS heap.
    if (inFeatures * outFeatures > 2 ** 30)
      throw new RangeError(`${op}: a ${inFeatures}×${outFeatures} weight has ${inFeatures * outFeatures} elements; the limit is 2^30 (4 GiB of float32).`);
    const shape = [inFeatures, outFeatures];
    if (values) {
      // load(): the file's values, without drawing (and writing) a random weight first.
      if (values.weight.length !== inFeatures * outFeatures || (options.bias === false ? values.bias !== null : values.bias?.length !== outFeatures))
        throw new RangeError(`${op}: the given values do not fit a ${inFeatures}×${outFeatures} layer${options.bias === false ? ' without bias' : ''}.`);
      this.weight = param(values.weight, shape);
      try {
        this.bias = values.bias ? param(values.bias, [outFeatures]) : null;
      } catch (e) {
        this.weight.dispose();
        throw e;
      }
      return;
    }
    const r = rng(options.seed ?? 0);
    const fanIn = inFeatures, fanOut = outFeatures;
    const uniform = (a: number) => param(r.fillUniform(new Float32Array(inFeatures * outFeatures), -a, a), shape);
    switch (init) {
      case 'he': this.weight = normalParam(r, shape, Math.sqrt(2 / fanIn)); break;
      case 'lecun': this.weight = normalParam(r, shape, Math.sqrt(1 / fanIn)); break;
      case 'glorot': this.weight = uniform(Math.sqrt(6 / (fanIn + fanOut))); break;
      case 'torch': this.weight = uniform(1 / Math.sqrt(fanIn)); break;
      default: throw new RangeError(`${op}: unknown init '${String(init)}'; use 'he', 'glorot', 'lecun' or 'torch'.`);
    }
    if (options.bias === false) this.bias = null;
    else {
      const b = new Float32Array(outFeatures);
      if (init === 'torch') r.fillUniform(b, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
      try {
        this.bias = param(b, [outFeatures]);
      } catch (e) {
        // Out of memory for the bias: the weight is already allocated and nothing else owns it.
        this.weight.dispose();
        throw e;
      }
    }
  }

  override get inFeatures(): number {
    return this.inFeatures_;
  }
  override params(): Tensor[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }
  override paramNames(): string[] {
    return this.bias ? ['weight', 'bias'] : ['weight'];
  }
  /** act(x·W + b) for x [rows, in]. */
  forward(x: Tensor): Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures)
      throw new RangeError(`linear: input ${fmtShape(x.shape)} does not fit a layer with ${this.inFeatures} inputs; give [batch, ${this.inFeatures}].`);
    return dense(x, this.weight, this.bias, this.activation, this.alpha);
  }
  outFeatures(inFeatures: number): number {
    if (inFeatures !== this.inFeatures) throw new RangeError(`linear: expects ${this.inFeatures} input features, the previous layer gives ${inFeatures}.`);
    return this.outFeatures_;
  }
  config(): LayerConfig {
    return { type: 'linear', inFeatures: this.inFeatures, outFeatures: this.outFeatures_, activation: this.activation, ...(this.alpha !== undefined ? { alpha: this.alpha } : {}), bias: this.bias !== null };
  }
}

/**
 * A parameter of N(0, std²) values drawn from r: the backend's kernel fills it in place when it has one
 * (wasm: the same numbers as r.fillNormal, without a JS array and a copy, and several times faster at
 * start-up), else r fills an array that is written.
 */
function normalParam(r: Rng, shape: readonly number[], std: number): Tensor {
  const n = shape[0] * shape[1];
  const be = backend();
  if (be.fillNormal && n > 0) {
    const t = new Tensor(shape, engine.newStorage(n), false);
    const h = t.handle('param');
    let filled = false;
    try {
      filled = continueStream(r, (state) => be.fillNormal!(n, h, 0, std, state));
    } finally {
      if (!filled) t.dispose();
    }
    if (filled) {
      t.requiresGrad = true;
      return t;
    }
  }
  return param(r.fillNormal(new Float32Array(n), 0, std), shape);
}

/** A trainable leaf tensor outside any tidy scope (layers own their parameters). */
export function param(data: Float32Array, shape: readonly number[]): Tensor {
  const t = new Tensor(shape, engine.newStorage(data.length), false);
  if (data.length) backend().write(t.handle('param'), data);
  t.requiresGrad = true;
  return t;
}

/**
 * A trainable tensor for a layer of your own, as the built-in layers make theirs: outside tidy() scopes
 * (the layer owns it; Layer.dispose() frees what params() lists) and with requiresGrad set. `init` is
 * 'zeros', 'ones', one of the Init schemes (fan-in and fan-out from a [in, out] shape; a 1-D shape is
 * its own fan-in), or the values themselves.
 */
export function parameter(shape: readonly number[], init: Init | 'zeros' | 'ones' | ArrayLike<number> = 'zeros', seed = 0): Tensor {
  const op = 'layers.parameter';
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 2 || !shape.every((d) => Number.isInteger(d) && d >= 1))
    throw new RangeError(`${op}: shape must be [n] or [in, out] of positive integers, got ${JSON.stringify(shape)}.`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (typeof init !== 'string') {
    if (!init || typeof (init as ArrayLike<number>).length !== 'number' || init.length !== n)
      throw new RangeError(`${op}: ${n} values are needed for shape ${fmtShape(shape)}, got ${init && typeof init.length === 'number' ? init.length : typeof init}.`);
    return param(Float32Array.from(init), shape);
  }
  const fanIn = shape[0], fanOut = shape[shape.length - 1];
  const r = rng(seed);
  switch (init) {
    case 'zeros': return param(new Float32Array(n), shape);
    case 'ones': return param(new Float32Array(n).fill(1), shape);
    case 'he': return param(r.fillNormal(new Float32Array(n), 0, Math.sqrt(2 / fanIn)), shape);
    case 'lecun': return param(r.fillNormal(new Float32Array(n), 0, Math.sqrt(1 / fanIn)), shape);
    case 'glorot': {
      const a = Math.sqrt(6 / (fanIn + fanOut));
      return param(r.fillUniform(new Float32Array(n), -a, a), shape);
    }
    case 'torch': return param(r.fillUniform(new Float32Array(n), -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)), shape);
    default: throw new RangeError(`${op}: unknown init '${String(init)}'; use 'zeros', 'ones', 'he', 'lecun', 'glorot', 'torch' or an array of values.`);
  }
}

/** A standalone activation (softmax and logSoftmax work along the last axis). */
export class ActivationLayer extends Layer {
  readonly type = 'activation';
  /** The activation applied. */
  readonly activation: LayerActivation;
  /** Slope of leakyRelu / alpha of elu, when set. */
  readonly alpha: number | undefined;
  constructor(activation: LayerActivation, alpha?: number) {
    super();
    this.activation = checkActivation(activation, 'layers.activation');
    this.alpha = alpha;
  }
  /** The unary code, or null for softmax/logSoftmax. */
  get code(): UnaryCode | null {
    return this.activation === 'softmax' || this.activation === 'logSoftmax' ? null : Unary[activationOp(this.activation)];
  }
  /** The activation of x. */
  forward(x: Tensor): Tensor {
    assertTensor(x, 'activation');
    switch (this.activation) {
      case 'softmax': return softmax(x);
      case 'logSoftmax': return logSoftmax(x);
      case 'linear': return x;
      default:
        return unaryOp(this.activation, x, activationAlpha(this.activation, this.alpha));
    }
  }
  outFeatures(n: number): number {
    return n;
  }
  config(): LayerConfig {
    return { type: 'activation', activation: this.activation, ...(this.alpha !== undefined ? { alpha: this.alpha } : {}) };
  }
}

/** Inverted dropout while training (identity at inference); masks are reproducible from the model's seed. */
export class Dropout extends Layer {
  readonly type = 'dropout';
  /** The share of values zeroed while training. */
  readonly rate: number;
  constructor(rate: number) {
    super();
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new RangeError(`layers.dropout: rate must be in [0, 1), got ${String(rate)}.`);
    this.rate = rate;
  }
  /** x with dropout applied while training (scaled by 1/(1 − rate)), x itself otherwise. */
  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (!ctx.training || this.rate === 0) return x;
    const y = dropout(x, this.rate, ctx.seed, ctx.offset);
    ctx.offset = (ctx.offset + x.size) >>> 0;
    return y;
  }
  outFeatures(n: number): number {
    return n;
  }
  config(): LayerConfig {
    return { type: 'dropout', rate: this.rate };
  }
}

const CONFIG_KEYS: Record<LayerConfig['type'], readonly string[]> = {
  linear: ['type', 'inFeatures', 'outFeatures', 'activation', 'alpha', 'bias'],
  activation: ['type', 'activation', 'alpha'],
  dropout: ['type', 'rate'],
};

/** A short, safe rendering of a config value for a message (configs may come from hostile files). */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
}

/**
 * A layer config checked field by field (as config() writes it; a saved model's topology is read
 * through this), returned as a fresh plain object. Unknown fields and values of the wrong type are
 * errors, not ignored: `bias: "no"` must not silently mean a bias. Allocates nothing.
 */
export function checkLayerConfig(c: unknown): LayerConfig | CustomLayerConfig {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new TypeError(`a layer config must be an object such as {"type": "linear", ...}, got ${show(c)}.`);
  const o = c as Record<string, unknown>;
  const type = o.type;
  // A registered layer type checks its own fields when its factory builds it.
  if (typeof type === 'string' && custom.has(type)) return o as CustomLayerConfig;
  if (type !== 'linear' && type !== 'activation' && type !== 'dropout')
    throw new TypeError(
      `unknown layer type ${show(type)}; simdnn reads 'linear', 'activation' and 'dropout'` +
        (custom.size ? ` and the registered ${[...custom.keys()].map((k) => `'${k}'`).join(', ')}` : '') +
        `. A layer of your own loads once its type is registered: layers.register(type, (config) => new YourLayer(...)).`,
    );
  const keys = CONFIG_KEYS[type];
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new TypeError(`a ${type} layer has an unknown field ${show(k)}; its fields are ${keys.join(', ')}.`);
  const alpha = (): { alpha?: number } => {
    if (o.alpha === undefined) return {};
    if (typeof o.alpha !== 'number' || !Number.isFinite(o.alpha)) throw new TypeError(`alpha must be a finite number, got ${show(o.alpha)}.`);
    return { alpha: o.alpha };
  };
  const size = (k: string): number => {
    const n = o[k];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new TypeError(`${k} must be a positive integer, got ${show(n)}.`);
    return n;
  };
  switch (type) {
    case 'linear': {
      const inFeatures = size('inFeatures'), outFeatures = size('outFeatures');
      const act = o.activation;
      if (typeof act !== 'string' || !(FUSED as readonly string[]).includes(act))
        throw new TypeError(`activation must be one of ${FUSED.join(', ')}, got ${show(act)}.`);
      if (typeof o.bias !== 'boolean') throw new TypeError(`bias must be true or false, got ${show(o.bias)}.`);
      return { type, inFeatures, outFeatures, activation: act as Activation, ...alpha(), bias: o.bias };
    }
    case 'activation': {
      const act = o.activation;
      if (typeof act !== 'string' || !ACTIVATIONS.includes(act)) throw new TypeError(`activation must be one of ${ACTIVATIONS.join(', ')}, got ${show(act)}.`);
      return { type, activation: act as LayerActivation, ...alpha() };
    }
    case 'dropout': {
      const rate = o.rate;
      if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new TypeError(`rate must be a number in [0, 1), got ${show(rate)}.`);
      return { type, rate };
    }
  }
}

/** Rebuilds a layer from its config (weights are set separately); the config is checked first. */
export function layerFromConfig(config: LayerConfig | CustomLayerConfig, seed = 0, values?: LinearValues): Layer {
  const c = checkLayerConfig(config);
  const make = custom.get(c.type);
  if (make) {
    const layer = make(c as CustomLayerConfig);
    if (!(layer instanceof Layer) || layer.type !== c.type) {
      if (layer instanceof Layer) layer.dispose();
      throw new TypeError(`the factory registered for '${c.type}' layers must return a Layer whose type is '${c.type}', got ${layer instanceof Layer ? `type '${layer.type}'` : typeof layer}.`);
    }
    return layer;
  }
  const b = c as LayerConfig;
  switch (b.type) {
    case 'linear': return new Linear(b.inFeatures, b.outFeatures, { activation: b.activation, alpha: b.alpha, bias: b.bias, seed }, values);
    case 'activation': return new ActivationLayer(b.activation, b.alpha);
    case 'dropout': return new Dropout(b.rate);
  }
}

/** Factories of the layer types users registered, by type. */
const custom = new Map<string, (config: CustomLayerConfig) => Layer>();

/**
 * Lets load() rebuild a layer of your own: `fromConfig` gets the object the layer's config() returned
 * when the model was saved, and returns the layer (load() then sets its parameters from the file, by
 * the names paramNames() gives). Register the type in the program that loads the model. The factory
 * runs on the file's word: check the sizes it is given before allocating.
 */
export function registerLayer(type: string, fromConfig: (config: CustomLayerConfig) => Layer): void {
  const op = 'layers.register';
  if (typeof type !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]*$/.test(type)) throw new TypeError(`${op}: type must be a name such as 'layerNorm', got ${show(type)}.`);
  if (type === 'linear' || type === 'activation' || type === 'dropout') throw new RangeError(`${op}: '${type}' is a built-in layer type; give yours another name.`);
  if (typeof fromConfig !== 'function') throw new TypeError(`${op}: fromConfig must be a function (config) => Layer, got ${typeof fromConfig}.`);
  custom.set(type, fromConfig);
}

/** Whether load() can rebuild layers of this type (built in, or registered). */
export function isLoadableLayerType(type: string): boolean {
  return type === 'linear' || type === 'activation' || type === 'dropout' || custom.has(type);
}

/** layers.relu(), layers.leakyRelu(slope?), …: one constructor per fusable activation of the op table. */
type ActivationLayers = {
  readonly [K in Exclude<Activation, 'linear'>]: K extends ParamUnaryName ? (param?: number) => ActivationLayer : () => ActivationLayer;
};
const activationLayers = Object.fromEntries(
  FUSED.filter((a) => a !== 'linear').map((a) => {
    const param = (UNARY[activationOp(a)] as UnaryDesc).param;
    return [a, (p?: number) => new ActivationLayer(a, param ? (p ?? param.default) : undefined)];
  }),
) as unknown as ActivationLayers;

/** Layer constructors, the `layers` namespace of the public API. */
export const layers = {
  ...activationLayers,
  linear: (inFeatures: number, outFeatures: number, options?: LinearOptions) => new Linear(inFeatures, outFeatures, options),
  dense: (inFeatures: number, outFeatures: number, options?: LinearOptions) => new Linear(inFeatures, outFeatures, options),
  activation: (activation: LayerActivation, alpha?: number) => new ActivationLayer(activation, alpha),
  softmax: () => new ActivationLayer('softmax'),
  logSoftmax: () => new ActivationLayer('logSoftmax'),
  dropout: (rate: number) => new Dropout(rate),
  parameter,
  register: registerLayer,
};
