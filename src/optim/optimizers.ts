// optimizers.sgd/adam/adamw/rmsprop/adagrad: torch.optim's algorithms and defaults, plus an L1 penalty and
// clipping by global gradient norm. Options are validated here (unknown keys are an error, so a typo does
// not pass silently); the optimizer itself is in optimizer.ts.
import { checkOptions } from '../core/validate.js';
import {
  OptimizerImpl, type AdagradOptions, type AdamOptions, type Optimizer, type OptimizerJSON, type OptimizerKind,
  type RmspropOptions, type SgdOptions,
} from './optimizer.js';

export type {
  Optimizer, OptimizerJSON, OptimizerKind, SgdOptions, AdamOptions, RmspropOptions, AdagradOptions,
} from './optimizer.js';
export { isOptimizer } from './optimizer.js';

/** What the factories accept: every option but lr may be left out (and so may lr for adam/adamw/rmsprop/adagrad). */
export type SgdConfig = { lr: number } & Partial<Omit<SgdOptions, 'lr'>>;
/** What adam() and adamw() accept: any AdamOptions, all optional (betas as any two numbers). */
export type AdamConfig = Partial<Omit<AdamOptions, 'betas'>> & { betas?: readonly [number, number] | readonly number[] };
/** What rmsprop() accepts: any RmspropOptions, all optional. */
export type RmspropConfig = Partial<RmspropOptions>;
/** What adagrad() accepts: any AdagradOptions, all optional. */
export type AdagradConfig = Partial<AdagradOptions>;

const COMMON = ['lr', 'weightDecay', 'l1', 'clipNorm'] as const;
const KEYS: Record<OptimizerKind, readonly string[]> = {
  sgd: [...COMMON, 'momentum', 'dampening', 'nesterov'],
  adam: [...COMMON, 'betas', 'eps', 'amsgrad'],
  adamw: [...COMMON, 'betas', 'eps', 'amsgrad'],
  rmsprop: [...COMMON, 'alpha', 'eps', 'momentum', 'centered'],
  adagrad: [...COMMON, 'lrDecay', 'initialAccumulatorValue', 'eps'],
};

/** Reads options for `op`, refusing unknown keys and non-objects. */
function reader(op: OptimizerKind, options: unknown) {
  const o = checkOptions(options, KEYS[op], op) as Record<string, unknown>;
  const got = (v: unknown) => (typeof v === 'number' ? String(v) : v === null ? 'null' : typeof v === 'string' ? `'${v}'` : typeof v);
  const number = (key: string, def: number | undefined, test: (v: number) => boolean, what: string): number => {
    const v = o[key] === undefined ? def : o[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || !test(v)) throw new RangeError(`${op}: ${key} must be ${what}, got ${got(v)}.`);
    return v;
  };
  return {
    lr: (def?: number) => number('lr', def, (v) => v > 0, 'a positive finite number'),
    nonNeg: (key: string, def: number) => number(key, def, (v) => v >= 0, 'a finite number ≥ 0'),
    unit: (key: string, def: number) => number(key, def, (v) => v >= 0 && v <= 1, 'a number in [0, 1]'),
    bool: (key: string, def: boolean): boolean => {
      const v = o[key] === undefined ? def : o[key];
      if (typeof v !== 'boolean') throw new TypeError(`${op}: ${key} must be true or false, got ${got(v)}.`);
      return v;
    },
    clipNorm: (): number | undefined => {
      if (o.clipNorm === undefined) return undefined;
      return number('clipNorm', undefined, (v) => v > 0, 'a positive finite number (the largest global gradient norm)');
    },
    betas: (def: readonly [number, number]): readonly [number, number] => {
      const v = o.betas === undefined ? def : o.betas;
      if (!Array.isArray(v) || v.length !== 2) throw new TypeError(`${op}: betas must be an array of two numbers [beta1, beta2], got ${Array.isArray(v) ? `an array of ${v.length}` : got(v)}.`);
      v.forEach((b, i) => {
        if (typeof b !== 'number' || !(b >= 0 && b < 1)) throw new RangeError(`${op}: betas[${i}] must be in [0, 1), got ${got(b)}.`);
      });
      return Object.freeze([v[0], v[1]] as [number, number]);
    },
  };
}

function common(r: ReturnType<typeof reader>, lrDefault: number | undefined, wdDefault = 0) {
  const out: { lr: number; weightDecay: number; l1: number; clipNorm?: number } = {
    lr: r.lr(lrDefault),
    weightDecay: r.nonNeg('weightDecay', wdDefault),
    l1: r.nonNeg('l1', 0),
  };
  const clip = r.clipNorm();
  if (clip !== undefined) out.clipNorm = clip;
  return out;
}

/**
 * Stochastic gradient descent, as torch.optim.SGD: with momentum μ the buffer starts as the first
 * gradient, then buf ← μ·buf + (1 − dampening)·g; nesterov steps along g + μ·buf. weightDecay adds
 * weightDecay·p to the gradient. lr has no default (as in torch).
 */
export function sgd(options: SgdConfig): Optimizer<'sgd'> {
  if (options === undefined) throw new TypeError(`sgd: needs options with at least lr, e.g. sgd({lr: 0.01, momentum: 0.9}).`);
  const r = reader('sgd', options);
  const c = common(r, undefined);
  const momentum = r.nonNeg('momentum', 0);
  const dampening = r.unit('dampening', 0);
  const nesterov = r.bool('nesterov', false);
  if (nesterov && (momentum <= 0 || dampening !== 0))
    throw new RangeError(`sgd: nesterov momentum requires momentum > 0 and dampening = 0, got momentum ${momentum} and dampening ${dampening}.`);
  return new OptimizerImpl('sgd', { ...c, momentum, dampening, nesterov });
}

function adamLike<K extends 'adam' | 'adamw'>(kind: K, options: AdamConfig | undefined, wdDefault: number): Optimizer<K> {
  const r = reader(kind, options);
  const c = common(r, 1e-3, wdDefault);
  return new OptimizerImpl(kind, { ...c, betas: r.betas([0.9, 0.999]), eps: r.nonNeg('eps', 1e-8), amsgrad: r.bool('amsgrad', false) });
}

/**
 * Adam, as torch.optim.Adam: weightDecay is an L2 penalty added to the gradient (coupled);
 * p ← p − lr·m̂/(sqrt(v̂) + eps) with eps outside the root, after bias correction. Defaults lr 1e-3,
 * betas [0.9, 0.999], eps 1e-8, weightDecay 0, amsgrad false.
 */
export function adam(options?: AdamConfig): Optimizer<'adam'> {
  return adamLike('adam', options, 0);
}

/**
 * AdamW, as torch.optim.AdamW: weight decay is decoupled (p ← p·(1 − lr·weightDecay) before the Adam
 * step, which sees the raw gradient). Defaults as adam but weightDecay 0.01.
 */
export function adamw(options?: AdamConfig): Optimizer<'adamw'> {
  return adamLike('adamw', options, 0.01);
}

/**
 * RMSprop, as torch.optim.RMSprop: sq ← α·sq + (1 − α)·g², step g/(sqrt(sq) + eps) (centered: the root
 * of sq − avg(g)²), optionally through a momentum buffer. Defaults lr 1e-2, alpha 0.99, eps 1e-8.
 */
export function rmsprop(options?: RmspropConfig): Optimizer<'rmsprop'> {
  const r = reader('rmsprop', options);
  const c = common(r, 1e-2);
  return new OptimizerImpl('rmsprop', {
    ...c, alpha: r.unit('alpha', 0.99), eps: r.nonNeg('eps', 1e-8), momentum: r.nonNeg('momentum', 0), centered: r.bool('centered', false),
  });
}

/**
 * Adagrad, as torch.optim.Adagrad: sum ← sum + g² (starting at initialAccumulatorValue),
 * p ← p − lr/(1 + (t − 1)·lrDecay) · g/(sqrt(sum) + eps). Defaults lr 1e-2, lrDecay 0, eps 1e-10.
 */
export function adagrad(options?: AdagradConfig): Optimizer<'adagrad'> {
  const r = reader('adagrad', options);
  const c = common(r, 1e-2);
  return new OptimizerImpl('adagrad', {
    ...c, lrDecay: r.nonNeg('lrDecay', 0), initialAccumulatorValue: r.nonNeg('initialAccumulatorValue', 0), eps: r.nonNeg('eps', 1e-10),
  });
}

const FACTORIES: Record<OptimizerKind, (o: any) => Optimizer> = { sgd, adam, adamw, rmsprop, adagrad };

/** An optimizer from toJSON()'s output (or its JSON text), with fresh state. */
export function fromJSON(json: OptimizerJSON | string): Optimizer {
  let j: unknown = json;
  if (typeof j === 'string') {
    try {
      j = JSON.parse(j);
    } catch (e) {
      throw new TypeError(`optimizers.fromJSON: not valid JSON (${(e as Error).message}).`);
    }
  }
  if (typeof j !== 'object' || j === null) throw new TypeError(`optimizers.fromJSON: expects {kind, options}, got ${j === null ? 'null' : typeof j}.`);
  const { kind, options } = j as { kind?: unknown; options?: unknown };
  if (typeof kind !== 'string' || !Object.prototype.hasOwnProperty.call(FACTORIES, kind))
    throw new RangeError(`optimizers.fromJSON: unknown optimizer kind ${JSON.stringify(kind)}; known kinds: ${Object.keys(FACTORIES).join(', ')}.`);
  return FACTORIES[kind as OptimizerKind](options ?? {});
}
