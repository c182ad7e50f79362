// tune()'s search space: what may vary between trials, checked in full before any trial runs, and drawn
// from with a seeded generator (so a seed gives the same trials everywhere). A dimension is a fixed value,
// a list of choices, or a range {min, max}; the learning rate and the weight decay are drawn log-uniformly
// from a range (their effect is multiplicative), everything else uniformly.
import { ACTIVATIONS, type Activation } from '../core/optable.js';
import type { Rng } from '../core/random.js';
import { checkOptions, show } from '../core/validate.js';

/** A range to draw from: uniformly, or log-uniformly with log: true (the default for lr and weightDecay). */
export interface Range {
  /** The smallest value drawn. */
  min: number;
  /** The largest value drawn. */
  max: number;
  /** Draw log-uniformly (the default for lr and weightDecay), else uniformly. */
  log?: boolean;
}

/** Hidden layers drawn at random: a number of layers, and each layer's width (log-uniform, integers). */
export interface HiddenRange {
  /** How many hidden layers: a count, or [fewest, most] (default [1, 2]). */
  layers?: number | readonly [number, number];
  /** Widths to draw from, log-uniformly (default {min: 32, max: 512}). */
  units: Range | readonly [number, number];
}

/** Optimizers a trial may use (sgd with Nesterov momentum 0.9). */
export type TuneOptimizer = 'adam' | 'adamw' | 'sgd' | 'rmsprop';
const OPTIMIZERS: readonly TuneOptimizer[] = ['adam', 'adamw', 'sgd', 'rmsprop'];

/**
 * What may vary between trials. Give a value to fix a dimension, an array to choose from, or a range; a
 * dimension left out keeps its value in FIXED_DEFAULTS.
 */
export interface SearchSpace {
  /** Hidden layer sizes: one list ([128, 64]), lists to choose from ([[64], [128, 64]]), or a HiddenRange. */
  hidden?: readonly number[] | readonly (readonly number[])[] | HiddenRange;
  /** The hidden layers' activation: one, or several to choose from. */
  activation?: Exclude<Activation, 'linear'> | readonly Exclude<Activation, 'linear'>[];
  /** Learning rate (a range is log-uniform unless log: false). */
  lr?: number | readonly number[] | Range;
  /** Dropout after each hidden layer, in [0, 1). */
  dropout?: number | readonly number[] | Range;
  /** Weight decay (L2 for adam, sgd and rmsprop, decoupled for adamw; a range is log-uniform unless log: false). */
  weightDecay?: number | readonly number[] | Range;
  /** Rows per batch: one, or several to choose from. */
  batchSize?: number | readonly number[];
  /** The optimizer: one, or several to choose from. */
  optimizer?: TuneOptimizer | readonly TuneOptimizer[];
  /** With a builder, any other dimension the builder reads (a value, choices, or a range). */
  [dimension: string]: unknown;
}

/** One trial's draw: every dimension of the space with a value. */
export interface TrialParams {
  /** Hidden layer widths, input side first. */
  hidden: number[];
  /** The hidden layers' activation. */
  activation: Exclude<Activation, 'linear'>;
  /** Learning rate. */
  lr: number;
  /** Dropout after each hidden layer (0: none). */
  dropout: number;
  /** Weight decay (0: none). */
  weightDecay: number;
  /** Rows per batch. */
  batchSize: number;
  /** The optimizer. */
  optimizer: TuneOptimizer;
  /** The trial's seed (initial weights, shuffling, dropout). */
  seed: number;
  [dimension: string]: unknown;
}

const BUILT_IN = ['hidden', 'activation', 'lr', 'dropout', 'weightDecay', 'batchSize', 'optimizer'] as const;

/**
 * The values of the dimensions a search space leaves out: fixed, as GridSearchCV leaves the parameters
 * outside its grid at the estimator's defaults (these are `simdnn train`'s).
 */
export const FIXED_DEFAULTS: Readonly<Omit<TrialParams, 'seed'>> = Object.freeze({
  hidden: [128], activation: 'relu', lr: 1e-3, dropout: 0, weightDecay: 0, batchSize: 32, optimizer: 'adam',
});

/** The space of tune('auto', ...), chosen for small tables; no table of the benchmark was tuned against it. */
export const DEFAULT_SPACE: Readonly<Required<Pick<SearchSpace, (typeof BUILT_IN)[number]>>> = Object.freeze({
  hidden: Object.freeze({ layers: [1, 2] as const, units: Object.freeze({ min: 32, max: 512 }) }),
  activation: Object.freeze(['relu', 'gelu', 'silu', 'tanh'] as const),
  lr: Object.freeze({ min: 3e-4, max: 3e-2 }),
  dropout: Object.freeze([0, 0.1, 0.2, 0.3]),
  weightDecay: Object.freeze([0, 1e-5, 1e-4, 1e-3]),
  batchSize: Object.freeze([16, 32, 64, 128]),
  optimizer: Object.freeze(['adam', 'adamw'] as const),
});

/** A dimension ready to draw from. */
type Sampler = (r: Rng) => unknown;

/** The checked space: one sampler per dimension, and a description for messages and the leaderboard. */
export interface Space {
  samplers: Map<string, Sampler>;
  /** Dimensions with more than one possible value. */
  varying: string[];
}

const isRange = (v: unknown): v is Range => typeof v === 'object' && v !== null && !Array.isArray(v) && 'min' in v;

/**
 * Checks a search space and returns its samplers. `builder`: whether a builder reads the draws (then
 * extra dimensions are allowed); without one, the space builds MLPs and only the built-in dimensions
 * exist. Dimensions the space leaves out keep FIXED_DEFAULTS' values (without a builder) or are not
 * drawn. `auto`: the space is DEFAULT_SPACE (tune('auto', ...)), so an empty one is no mistake.
 */
export function checkSpace(space: unknown, builder: boolean, op: string, auto = false): Space {
  if (typeof space !== 'object' || space === null || Array.isArray(space))
    throw new TypeError(`${op}: the search space must be an object such as {lr: {min: 1e-4, max: 1e-2}, hidden: [[64], [128]]}, got ${show(space)}.`);
  const o = (builder ? space : checkOptions(space, BUILT_IN, op, 'the search space')) as Record<string, unknown>;
  const given = Object.keys(o).filter((k) => o[k] !== undefined);
  if (given.length === 0 && !auto)
    throw new RangeError(
      `${op}: the search space is empty, so there is nothing to tune; give at least one dimension (${BUILT_IN.join(', ')}), e.g. {lr: {min: 1e-4, max: 1e-2}}, or pass 'auto' for the default space.`,
    );
  const samplers = new Map<string, Sampler>();
  const varying: string[] = [];
  const dims = builder && !auto ? given : [...BUILT_IN];
  for (const k of dims) {
    const v = auto ? (DEFAULT_SPACE as Record<string, unknown>)[k] : o[k] === undefined ? (FIXED_DEFAULTS as Record<string, unknown>)[k] : o[k];
    const { sample, varies } = dimension(k, v, op);
    samplers.set(k, sample);
    if (varies) varying.push(k);
  }
  if (varying.length === 0 && !builder)
    throw new RangeError(`${op}: every dimension of the search space has one value, so every trial would be the same; give choices or a range for at least one (e.g. lr: {min: 1e-4, max: 1e-2}).`);
  return { samplers, varying };
}

function dimension(k: string, v: unknown, op: string): { sample: Sampler; varies: boolean } {
  const where = `${op}: the search space's ${k}`;
  const numeric = (v: unknown, ok: (a: number) => boolean, what: string, logDefault: boolean) => numericDim(v, op, k, ok, what, logDefault);
  switch (k) {
    case 'hidden': return hiddenRange(v, op, where);
    case 'activation': return choices(v, where, (a) => typeof a === 'string' && a !== 'linear' && (ACTIVATIONS as readonly string[]).includes(a), `one of ${ACTIVATIONS.filter((a) => a !== 'linear').join(', ')}`);
    case 'optimizer': return choices(v, where, (a) => typeof a === 'string' && (OPTIMIZERS as readonly string[]).includes(a), `one of ${OPTIMIZERS.join(', ')}`);
    case 'batchSize': return choices(v, where, (a) => typeof a === 'number' && Number.isInteger(a) && a >= 1, 'a positive integer');
    case 'lr': return numeric(v, (a) => a > 0, 'a positive number', true);
    case 'weightDecay': return numeric(v, (a) => a >= 0, 'a number ≥ 0', true);
    case 'dropout': return numeric(v, (a) => a >= 0 && a < 1, 'a rate in [0, 1)', false);
    default:
      // A builder's own dimension: numbers may be a range; anything else is a value or choices.
      if (isRange(v)) return numeric(v, () => true, 'a number', false);
      return Array.isArray(v) ? choices(v, where, () => true, 'any value') : { sample: () => v, varies: false };
  }
}

/** A fixed value or a list of choices, each passing `ok`. */
function choices(v: unknown, where: string, ok: (a: unknown) => boolean, what: string): { sample: Sampler; varies: boolean } {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new RangeError(`${where} is an empty list of choices; give at least one value (${what}).`);
  list.forEach((a, i) => {
    if (!ok(a)) throw new RangeError(`${where}${Array.isArray(v) ? `[${i}]` : ''} must be ${what}, got ${show(a)}.`);
  });
  return { sample: (r) => list[list.length === 1 ? 0 : r.int(list.length)], varies: new Set(list.map((a) => JSON.stringify(a))).size > 1 };
}

/** A number: fixed, choices, or a range (log-uniform when `log`, which defaults to `logDefault`). */
function numericDim(v: unknown, op: string, k: string, ok: (a: number) => boolean, what: string, logDefault: boolean): { sample: Sampler; varies: boolean } {
  const where = `${op}: the search space's ${k}`;
  if (!isRange(v)) return choices(v, where, (a) => typeof a === 'number' && Number.isFinite(a) && ok(a), what);
  checkOptions(v, ['min', 'max', 'log'], op, `the search space's ${k} range`);
  const { min, max } = v;
  const log = v.log ?? logDefault;
  for (const [name, x] of [['min', min], ['max', max]] as const)
    if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) throw new RangeError(`${where} range's ${name} must be ${what}, got ${show(x)}.`);
  if (!(max >= min)) throw new RangeError(`${where} range has min ${min} above max ${max}; give {min, max} with min ≤ max.`);
  if (typeof log !== 'boolean') throw new TypeError(`${where} range's log must be true or false, got ${show(log)}.`);
  if (log && !(min > 0)) throw new RangeError(`${where} range is log-uniform but starts at ${min}; a log range needs min > 0 (or give log: false, or choices such as [0, 1e-5, 1e-4]).`);
  const sample: Sampler = log ? (r) => Math.exp(r.uniform(Math.log(min), Math.log(max))) : (r) => r.uniform(min, max);
  return { sample: max === min ? () => min : sample, varies: max > min };
}

function hiddenRange(v: unknown, op: string, where: string): { sample: Sampler; varies: boolean } {
  const size = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 1;
  if (Array.isArray(v)) {
    if (v.length === 0) throw new RangeError(`${where} is an empty list; give layer sizes such as [128, 64], or choices such as [[64], [128, 64]] ([[]] is a linear model).`);
    // [128, 64]: one architecture; [[64], [128, 64]]: choices.
    if (v.every((n) => typeof n === 'number')) {
      v.forEach((n, i) => {
        if (!size(n)) throw new RangeError(`${where}[${i}] must be a positive integer (a layer's width), got ${show(n)}.`);
      });
      const fixed = v.slice();
      return { sample: () => fixed.slice(), varies: false };
    }
    return choices(v, where, (a) => Array.isArray(a) && a.every(size), 'a list of positive integers (layer widths)') as { sample: Sampler; varies: boolean };
  }
  if (typeof v !== 'object' || v === null) throw new TypeError(`${where} must be a list of widths, a list of such lists, or {layers, units}, got ${show(v)}.`);
  const o = checkOptions(v, ['layers', 'units'], op, "the search space's hidden") as Record<string, unknown>;
  const layers = o.layers ?? [1, 2];
  const [lo, hi] = typeof layers === 'number' ? [layers, layers] : Array.isArray(layers) && layers.length === 2 ? layers : [NaN, NaN];
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < lo)
    throw new RangeError(`${where}.layers must be a count or [fewest, most] (integers, 0 ≤ fewest ≤ most), got ${show(layers)}.`);
  const u = o.units;
  const [umin, umax] = Array.isArray(u) && u.length === 2 ? u : isRange(u) ? [u.min, u.max] : [NaN, NaN];
  if (!size(umin) || !size(umax) || umax < umin) throw new RangeError(`${where}.units must be {min, max} or [min, max] (widths, 1 ≤ min ≤ max), got ${show(u)}.`);
  const sample: Sampler = (r) => {
    const n = lo + r.int(hi - lo + 1);
    return Array.from({ length: n }, () => Math.round(Math.exp(r.uniform(Math.log(umin), Math.log(umax)))));
  };
  return { sample, varies: hi > lo || umax > umin };
}

/** One trial's parameters, drawn in the space's dimension order (so a seed gives the same draws). */
export function drawParams(space: Space, r: Rng, seed: number): TrialParams {
  const p: Record<string, unknown> = {};
  for (const [k, s] of space.samplers) p[k] = s(r);
  p.seed = seed;
  return p as TrialParams;
}

/** A short description of the varying dimensions of a draw, for messages and leaderboards. */
export function describeParams(p: TrialParams, varying: readonly string[]): string {
  const parts: string[] = [];
  for (const k of varying) {
    const v = p[k];
    if (k === 'hidden') parts.push(`hidden ${(v as number[]).length ? (v as number[]).join('-') : 'none'}`);
    else if (typeof v === 'number') parts.push(`${k} ${Number.isInteger(v) ? v : +v.toPrecision(2)}`);
    else parts.push(`${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return parts.join(' · ');
}
