// The optimizer object behind optimizers.sgd/adam/adamw/rmsprop/adagrad: per-parameter state tensors
// (created on a parameter's first step, reused after), optional clipping by global gradient norm, and one
// fused backend.optimStep per parameter. The update equations are torch.optim's; the `hyper` layouts are
// the op table's (src/core/optable.ts, OPTIM), written here by name through HYPER.
import { inspectAs } from '../core/format.js';
import type { Backend } from '../core/backend.js';
import { HYPER, HYPER_MAX, Optim, Reduce } from '../core/optable.js';
import { engine } from '../core/engine.js';
import { full, zeros } from '../ops/creation.js';
import { keep } from '../core/scope.js';
import { Tensor } from '../core/tensor.js';

/** The optimizers simdnn has. */
export type OptimizerKind = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad';

/** The options every optimizer has. */
export interface CommonOptions {
  /**
   * Learning rate (the base rate; schedules set `optimizer.lr`). Default 1e-3 for adam and adamw, 1e-2
   * for rmsprop and adagrad, none for sgd (required, as in PyTorch). PyTorch: `lr`; Keras: `learning_rate`.
   */
  lr: number;
  /**
   * L2 penalty added to the gradient (adamw: decoupled decay of the parameter instead). Default 0 (adamw:
   * 0.01). PyTorch: `weight_decay`; Keras: a `kernel_regularizer=l2(...)` (adamw: `weight_decay`).
   */
  weightDecay: number;
  /** L1 penalty: l1·sign(p) added to the gradient. Default 0. No PyTorch option (add it to the loss); Keras: `kernel_regularizer=l1(...)`. */
  l1: number;
  /** Clip the gradients to this global L2 norm before the update. Default: no clipping. PyTorch: `torch.nn.utils.clip_grad_norm_`; Keras: `global_clipnorm`. */
  clipNorm?: number;
}
/** sgd's options (torch.optim.SGD). */
export interface SgdOptions extends CommonOptions {
  /** Momentum factor. Default 0. PyTorch: `momentum`; Keras: `momentum` (with a different buffer form). */
  momentum: number;
  /** Dampening of the momentum buffer's new gradient. Default 0. PyTorch: `dampening`; no Keras equivalent. */
  dampening: number;
  /** Nesterov momentum (needs momentum > 0, dampening 0). Default false. PyTorch: `nesterov`; Keras: `nesterov`. */
  nesterov: boolean;
}
/** adam's and adamw's options (torch.optim.Adam / AdamW). */
export interface AdamOptions extends CommonOptions {
  /** Decay rates of the first and second moment estimates. Default [0.9, 0.999]. PyTorch: `betas`; Keras: `beta_1`, `beta_2`. */
  betas: readonly [number, number];
  /** Added to the root of the second moment (outside the root, as PyTorch). Default 1e-8. PyTorch: `eps`; Keras: `epsilon` (default 1e-7). */
  eps: number;
  /** The AMSGrad variant (the running maximum of the second moment). Default false. PyTorch: `amsgrad`; Keras: `amsgrad`. */
  amsgrad: boolean;
}
/** rmsprop's options (torch.optim.RMSprop). */
export interface RmspropOptions extends CommonOptions {
  /** Smoothing constant of the squared-gradient average. Default 0.99. PyTorch: `alpha`; Keras: `rho` (default 0.9). */
  alpha: number;
  /** Added to the root of the average. Default 1e-8. PyTorch: `eps`; Keras: `epsilon` (default 1e-7). */
  eps: number;
  /** Momentum factor. Default 0. PyTorch: `momentum`; Keras: `momentum`. */
  momentum: number;
  /** Normalise by the variance estimate (subtract the squared mean gradient). Default false. PyTorch: `centered`; Keras: `centered`. */
  centered: boolean;
}
/** adagrad's options (torch.optim.Adagrad). */
export interface AdagradOptions extends CommonOptions {
  /** Learning-rate decay per step: lr/(1 + (t − 1)·lrDecay). Default 0. PyTorch: `lr_decay`; no Keras equivalent. */
  lrDecay: number;
  /** Starting value of the sum of squared gradients. Default 0. PyTorch: `initial_accumulator_value`; Keras: `initial_accumulator_value` (default 0.1). */
  initialAccumulatorValue: number;
  /** Added to the root of the sum. Default 1e-10. PyTorch: `eps`; Keras: `epsilon` (default 1e-7). */
  eps: number;
}
/** The options type of each optimizer kind. */
export interface OptionsOf {
  sgd: SgdOptions;
  adam: AdamOptions;
  adamw: AdamOptions;
  rmsprop: RmspropOptions;
  adagrad: AdagradOptions;
}

/** What toJSON() gives and optimizers.fromJSON() takes (stored in saved models). */
export interface OptimizerJSON {
  /** Which optimizer. */
  kind: OptimizerKind;
  /** Its options, defaults applied. */
  options: Record<string, unknown>;
}

/**
 * An optimizer (from `optimizers.sgd/adam/adamw/rmsprop/adagrad`): updates parameters in place from their
 * gradients, as a `torch.optim.Optimizer`'s step(), with one fused kernel per parameter.
 */
export interface Optimizer<K extends OptimizerKind = OptimizerKind> {
  /** Which optimizer. */
  readonly kind: K;
  /** The current learning rate; starts at options.lr; schedules set it (any finite number ≥ 0). */
  lr: number;
  /** The options after defaults, frozen. */
  readonly options: Readonly<OptionsOf[K]>;
  /** Calls of step() since creation or reset(). */
  readonly stepCount: number;
  /**
   * Updates each params[i] in place from grads[i] (same shapes). State is created on a parameter's first
   * step (keyed by the tensor's id) and reused, so later steps allocate no tensors.
   */
  step(params: readonly Tensor[], grads: readonly Tensor[]): void;
  /** Forgets all state (freeing it), sets stepCount to 0 and lr back to options.lr. */
  reset(): void;
  /** Frees the state tensors; a later step() starts fresh state, as after reset(). */
  dispose(): void;
  /** The kind and options, for saving (optimizers.fromJSON rebuilds it, with fresh state). */
  toJSON(): OptimizerJSON;
  /** The kind and its options as one line, e.g. `Adam(lr=0.001, betas=[0.9, 0.999], eps=1e-8, amsgrad=false)`. */
  toString(): string;
  /** Bytes held by the per-parameter state tensors. */
  stateBytes(): number;
}

interface ParamState {
  s1: Tensor | null;
  s2: Tensor | null;
  /** This parameter's step count t (torch keeps one per parameter too). */
  step: number;
}

const CODE = { sgd: Optim.sgd, adam: Optim.adam, adamw: Optim.adam, rmsprop: Optim.rmsprop, adagrad: Optim.adagrad } as const;

/** @internal Built by the factories in optimizers.ts, which validate the options. */
export class OptimizerImpl<K extends OptimizerKind> implements Optimizer<K> {
  readonly kind: K;
  readonly options: Readonly<OptionsOf[K]>;
  private currentLr: number;
  private steps = 0;
  private readonly state = new Map<number, ParamState>();
  /** One float, reused for each gradient's sum of squares when clipping. */
  private scratch: Tensor | null = null;
  /** The backend the state lives on; init() replacing it invalidates the state. */
  private owner: Backend | null = null;
  /** Reused argument array of backend.optimStep (its layouts: the op table's HYPER). */
  private readonly hyper: number[] = new Array(HYPER_MAX).fill(0);
  /** options, seen as any kind's (each kind reads only its own keys). */
  private readonly o: Readonly<SgdOptions & AdamOptions & RmspropOptions & AdagradOptions>;

  constructor(kind: K, options: OptionsOf[K]) {
    this.kind = kind;
    this.options = Object.freeze(options);
    this.o = this.options as unknown as SgdOptions & AdamOptions & RmspropOptions & AdagradOptions;
    this.currentLr = options.lr;
  }

  get lr(): number {
    return this.currentLr;
  }
  set lr(v: number) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new RangeError(`${this.kind}: lr must be a finite number ≥ 0, got ${String(v)}.`);
    this.currentLr = v;
  }

  get stepCount(): number {
    return this.steps;
  }

  step(params: readonly Tensor[], grads: readonly Tensor[]): void {
    const op = `${this.kind}.step`;
    if (!Array.isArray(params) || !Array.isArray(grads))
      throw new TypeError(`${op}: expects (params: Tensor[], grads: Tensor[]), got (${describe(params)}, ${describe(grads)}).`);
    if (params.length !== grads.length)
      throw new RangeError(`${op}: got ${params.length} parameters but ${grads.length} gradients; pass one gradient per parameter, in the same order.`);
    for (let i = 0; i < params.length; i++) {
      const p = params[i], g = grads[i];
      if (!(p instanceof Tensor)) throw new TypeError(`${op}: params[${i}] must be a Tensor, got ${describe(p)}.`);
      if (!(g instanceof Tensor)) throw new TypeError(`${op}: grads[${i}] must be a Tensor, got ${describe(g)}.`);
      if (p.size !== g.size || p.rank !== g.rank || p.shape.some((d, k) => d !== g.shape[k]))
        throw new RangeError(`${op}: grads[${i}] has shape [${g.shape.join(', ')}] but params[${i}] has shape [${p.shape.join(', ')}]; they must match.`);
      if (p === g) throw new RangeError(`${op}: params[${i}] and grads[${i}] are the same tensor.`);
      p.handle(op);
      g.handle(op);
    }
    const b = engine.requireBackend();
    if (this.owner !== b) {
      // State of a backend that init() replaced died with it (disposing it is harmless).
      this.freeAll();
      this.owner = b;
    }
    const gscale = this.options.clipNorm !== undefined ? this.clipScale(b, grads, op) : 1;
    this.steps++;
    const lr = this.currentLr;
    const h = this.hyper;
    const s = this.o;
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      const n = p.size;
      if (n === 0) continue;
      const st = this.stateFor(p);
      const t = ++st.step;
      switch (this.kind) {
        case 'sgd': {
          const H = HYPER.sgd;
          h[H.lr] = lr; h[H.momentum] = s.momentum; h[H.dampening] = s.dampening; h[H.weightDecay] = s.weightDecay;
          h[H.nesterov] = s.nesterov ? 1 : 0; h[H.first] = t === 1 ? 1 : 0; h[H.l1] = s.l1; h[H.gscale] = gscale;
          break;
        }
        case 'adam':
        case 'adamw': {
          const H = HYPER.adam;
          const [b1, b2] = s.betas;
          h[H.lr] = lr; h[H.beta1] = b1; h[H.beta2] = b2; h[H.eps] = s.eps; h[H.weightDecay] = s.weightDecay;
          h[H.decoupled] = this.kind === 'adamw' ? 1 : 0; h[H.bc1] = 1 - b1 ** t; h[H.bc2] = 1 - b2 ** t;
          h[H.l1] = s.l1; h[H.gscale] = gscale; h[H.amsgrad] = s.amsgrad ? 1 : 0;
          break;
        }
        case 'rmsprop': {
          const H = HYPER.rmsprop;
          h[H.lr] = lr; h[H.alpha] = s.alpha; h[H.eps] = s.eps; h[H.weightDecay] = s.weightDecay; h[H.momentum] = s.momentum;
          h[H.centered] = s.centered ? 1 : 0; h[H.l1] = s.l1; h[H.gscale] = gscale;
          break;
        }
        case 'adagrad': {
          const H = HYPER.adagrad;
          h[H.clr] = lr / (1 + (t - 1) * s.lrDecay); h[H.eps] = s.eps; h[H.weightDecay] = s.weightDecay; h[H.l1] = s.l1; h[H.gscale] = gscale;
          break;
        }
      }
      b.optimStep(CODE[this.kind], n, p.handle(op), grads[i].handle(op), st.s1?.handle(op) ?? null, st.s2?.handle(op) ?? null, h);
    }
  }

  /**
   * torch.nn.utils.clip_grad_norm_: total = ‖all grads‖₂, scale = min(1, maxNorm/(total + 1e-6)), folded
   * into the update kernels as a gradient multiplier (the grads themselves are left unchanged).
   */
  private clipScale(b: Backend, grads: readonly Tensor[], op: string): number {
    if (!b.canReadSync)
      throw new Error(`${op}: clipNorm needs the gradient norm on the CPU, and the '${b.name}' backend cannot read synchronously; use the wasm or js backend, or leave clipNorm out.`);
    if (!this.scratch) this.scratch = keep(zeros([1]));
    const out = this.scratch.handle(op);
    let total = 0;
    for (const g of grads) {
      if (g.size === 0) continue;
      b.reduce(Reduce.sumSquares, 1, g.size, 1, g.handle(op), out);
      total += b.readSync(out, 1)[0];
    }
    return Math.min(1, this.options.clipNorm! / (Math.sqrt(total) + 1e-6));
  }

  private stateFor(p: Tensor): ParamState {
    const found = this.state.get(p.id);
    if (found) return found;
    const n = p.size;
    const make = (size: number, value = 0) => (size > 0 ? keep(value === 0 ? zeros([size]) : full([size], value)) : null);
    let s1: Tensor | null = null, s2: Tensor | null = null;
    switch (this.kind) {
      case 'sgd':
        s1 = make(this.o.momentum !== 0 ? n : 0);
        break;
      case 'adam':
      case 'adamw':
        s1 = make(n);
        s2 = make(this.o.amsgrad ? 2 * n : n);
        break;
      case 'rmsprop': {
        s1 = make(n);
        s2 = make((this.o.momentum > 0 ? n : 0) + (this.o.centered ? n : 0));
        break;
      }
      case 'adagrad':
        s1 = make(n, this.o.initialAccumulatorValue);
        break;
    }
    const st: ParamState = { s1, s2, step: 0 };
    this.state.set(p.id, st);
    return st;
  }

  private freeAll(): void {
    for (const st of this.state.values()) {
      st.s1?.dispose();
      st.s2?.dispose();
    }
    this.state.clear();
    this.scratch?.dispose();
    this.scratch = null;
  }

  reset(): void {
    this.freeAll();
    this.steps = 0;
    this.currentLr = this.options.lr;
  }

  dispose(): void {
    this.freeAll();
  }

  stateBytes(): number {
    let n = 0;
    for (const st of this.state.values()) n += (st.s1?.size ?? 0) + (st.s2?.size ?? 0);
    return n * 4;
  }

  /** `Adam(lr=0.001, betas=[0.9, 0.999], eps=1e-8, …)`: the kind and its options (the current lr when a schedule changed it). */
  toString(): string {
    return `${optionText(this.kind, { ...this.options, lr: this.lr })}${this.steps ? ` after ${this.steps} steps` : ''}`;
  }

  toJSON(): OptimizerJSON {
    const options: Record<string, unknown> = { ...this.options };
    if ('betas' in options) options.betas = [...(options.betas as number[])];
    return { kind: this.kind, options };
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Tensor) return `a Tensor [${v.shape.join(', ')}]`;
  return typeof v;
}

/** Whether v is an optimizer made by simdnn (fit checks its optimizer option with it). */
export function isOptimizer(v: unknown): v is Optimizer {
  return v instanceof OptimizerImpl;
}

inspectAs(OptimizerImpl.prototype);

/** `Kind(key=value, …)` for an optimizer's or a schedule's toString. */
export function optionText(kind: string, options: Readonly<Record<string, unknown>>): string {
  const name = kind.charAt(0).toUpperCase() + kind.slice(1);
  const parts = Object.entries(options)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(', ')}]` : String(v)}`);
  return `${name}(${parts.join(', ')})`;
}
