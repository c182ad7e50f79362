// fit()'s options: their types, and their checks, all made before any work is done (a typo in an option
// must fail at once, not after an epoch). fitSettings() turns the options into the settings the loop
// runs with, defaults applied.
import type { AbortSignalObject } from '../core/platform.js';
import { checkOptions } from '../core/validate.js';
import type { LossName } from '../nn/losses.js';
import { getLoss } from '../nn/losses.js';
import type { Sequential } from '../nn/model.js';
import type { TensorInput } from '../ops/creation.js';
import { adam } from '../optim/optimizers.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Schedule } from '../optim/schedules.js';
import type { Tensor } from '../core/tensor.js';

export interface EpochLogs {
  epoch: number;
  loss: number;
  valLoss?: number;
  accuracy?: number;
  valAccuracy?: number;
  lr: number;
  /** Wall time of the epoch in ms. */
  ms: number;
}

export interface BatchLogs {
  epoch: number;
  batch: number;
  step: number;
  loss: number;
  lr: number;
  size: number;
}

export interface Callbacks {
  onTrainBegin?(): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  /** Return false to stop training. */
  onBatchEnd?(batch: number, logs: BatchLogs): void | boolean | Promise<void | boolean>;
  /** Return false to stop training. */
  onEpochEnd?(epoch: number, logs: EpochLogs): void | boolean | Promise<void | boolean>;
  onTrainEnd?(history: History): void | Promise<void>;
}

export interface EarlyStopping {
  /** Epochs without improvement before stopping (default 5). */
  patience?: number;
  /** Put back the weights of the best epoch at the end (default true). */
  restoreBest?: boolean;
  /** What to watch (default 'valLoss' when there is validation data, else 'loss'). */
  monitor?: 'loss' | 'valLoss' | 'accuracy' | 'valAccuracy';
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
}

export interface FitOptions {
  loss: LossName;
  /** Default: adam({lr: 1e-3}). */
  optimizer?: Optimizer;
  epochs?: number;
  batchSize?: number;
  /** Reshuffle the rows every epoch (default true). */
  shuffle?: boolean;
  /** Fraction of the rows held out for validation (stratified for class labels), taken before training. */
  validationSplit?: number;
  validationData?: [TensorInput, TensorInput] | { x: TensorInput; y: TensorInput };
  schedule?: Schedule;
  earlyStopping?: EarlyStopping | boolean;
  callbacks?: Callbacks;
  /** Seed of shuffling, the validation split and dropout (default: the model's seed). */
  seed?: number;
  /** 0: silent (default); 1 or true: one line per epoch on the console. */
  verbose?: 0 | 1 | boolean;
  /** Huber's delta (default 1). */
  delta?: number;
  /** Give the event loop a turn at least this often, in ms (default 16), so a page stays responsive. */
  yieldEvery?: number;
  /** Stops training between batches when aborted (fit then resolves with the history so far). */
  signal?: AbortSignalObject;
}

export interface History {
  loss: number[];
  valLoss: number[];
  accuracy: number[];
  valAccuracy: number[];
  lr: number[];
  epochs: EpochLogs[];
  /** Batches trained. */
  steps: number;
  stoppedEarly: boolean;
  /** Epoch (from 0) with the best monitored value when early stopping ran, else the last. */
  bestEpoch: number;
  ms: number;
}

/** The losses that have an accuracy. */
export const CLASS_LOSSES: readonly LossName[] = ['softmaxCrossEntropy', 'binaryCrossEntropy'];

const FIT_KEYS = ['loss', 'optimizer', 'epochs', 'batchSize', 'shuffle', 'validationSplit', 'validationData', 'schedule', 'earlyStopping', 'callbacks', 'seed', 'verbose', 'delta', 'yieldEvery', 'signal'];
const EARLY_KEYS = ['patience', 'restoreBest', 'monitor', 'minDelta'];
const MONITORS = ['loss', 'valLoss', 'accuracy', 'valAccuracy'] as const;
export type Monitor = (typeof MONITORS)[number];

/** earlyStopping with its defaults applied. */
export interface Early {
  patience: number;
  monitor: Monitor;
  minDelta: number;
  restoreBest: boolean;
}

/** What fit() runs with: the options checked, defaults applied. */
export interface FitSettings {
  loss: LossName;
  epochs: number;
  batchSize: number;
  seed: number;
  delta: number;
  yieldEvery: number;
  shuffle: boolean;
  verbose: boolean;
  signal: AbortSignalObject | undefined;
  validationSplit: number | undefined;
  validationData: FitOptions['validationData'];
  early: Early | null;
  callbacks: Callbacks;
  schedule: Schedule | null;
  optimizer: Optimizer;
  /** An optimizer fit() creates is fit()'s to free; one passed in keeps its state for the next fit(). */
  ownOptimizer: boolean;
}

export function posInt(v: unknown, name: string, def: number, op = 'fit'): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${op}: ${name} must be a positive integer, got ${String(v)}.`);
  return v;
}

const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : String(v));

/** Checks every option of fit() and applies the defaults. Allocates nothing but the default optimizer, last. */
export function fitSettings(model: Sequential, options: FitOptions): FitSettings {
  if (typeof options !== 'object' || options === null) throw new TypeError("fit: options are required, at least {loss}, e.g. {loss: 'softmaxCrossEntropy', epochs: 10}.");
  checkOptions(options, FIT_KEYS, 'fit');
  getLoss(options.loss, 'fit');
  const loss = options.loss;
  const epochs = posInt(options.epochs, 'epochs', 10);
  const batchSize = posInt(options.batchSize, 'batchSize', 32);
  const seed = options.seed ?? model.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) throw new RangeError(`fit: seed must be a non-negative integer, got ${String(seed)}.`);
  const delta = options.delta ?? 1;
  if (typeof delta !== 'number' || !(delta > 0) || !Number.isFinite(delta)) throw new RangeError(`fit: delta must be a positive finite number, got ${String(delta)}.`);
  const yieldEvery = options.yieldEvery ?? 16;
  if (options.validationSplit !== undefined && options.validationData !== undefined) throw new TypeError('fit: give validationSplit or validationData, not both.');
  const vs = options.validationSplit;
  if (vs !== undefined && (typeof vs !== 'number' || !(vs > 0 && vs < 1))) throw new RangeError(`fit: validationSplit must be a fraction in (0, 1), got ${String(vs)}.`);
  const early = checkEarlyStopping(options.earlyStopping, loss, vs !== undefined || options.validationData !== undefined);
  if (options.optimizer != null && typeof (options.optimizer as Optimizer).step !== 'function')
    throw new TypeError('fit: optimizer must come from optimizers (e.g. optimizers.adam({lr: 1e-3})).');
  const ownOptimizer = options.optimizer == null;
  return {
    loss, epochs, batchSize, seed, delta, yieldEvery,
    shuffle: options.shuffle !== false,
    verbose: !!options.verbose,
    signal: options.signal,
    validationSplit: vs,
    validationData: options.validationData,
    early,
    callbacks: options.callbacks ?? {},
    schedule: options.schedule ?? null,
    optimizer: options.optimizer ?? adam({ lr: 1e-3 }),
    ownOptimizer,
  };
}

/** The earlyStopping option, checked in full before any work (a typo must not quietly stop training). */
function checkEarlyStopping(v: unknown, loss: LossName, hasVal: boolean): Early | null {
  if (v === undefined || v === null || v === false) return null;
  if (v === true) v = {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw new TypeError(`fit: earlyStopping must be true, false or an object such as {patience: 5, monitor: 'valLoss'}, got ${show(v)}.`);
  const o = checkOptions(v, EARLY_KEYS, 'fit', 'earlyStopping') as Record<string, unknown>;
  const patience = posInt(o.patience, 'earlyStopping.patience', 5);
  const monitor = o.monitor ?? (hasVal ? 'valLoss' : 'loss');
  if (typeof monitor !== 'string' || !(MONITORS as readonly string[]).includes(monitor)) {
    const key = typeof monitor === 'string' ? monitor.toLowerCase().replace(/[_\s-]/g, '') : '';
    const near = key ? MONITORS.find((m) => m.toLowerCase().startsWith(key) || key.startsWith(m.toLowerCase())) : undefined;
    throw new RangeError(`fit: earlyStopping.monitor must be one of ${MONITORS.map((m) => `'${m}'`).join(', ')}, got ${show(monitor)}${near ? `; did you mean '${near}'?` : '.'}`);
  }
  if ((monitor === 'accuracy' || monitor === 'valAccuracy') && !CLASS_LOSSES.includes(loss))
    throw new RangeError(
      `fit: earlyStopping.monitor '${monitor}' needs a classification loss (softmaxCrossEntropy or binaryCrossEntropy); with '${loss}' there is no accuracy. Monitor '${monitor === 'accuracy' ? 'loss' : 'valLoss'}' instead.`,
    );
  if (monitor.startsWith('val') && !hasVal) throw new TypeError(`fit: earlyStopping monitors '${monitor}' but there is no validation data; give validationSplit or validationData.`);
  const minDelta = o.minDelta ?? 0;
  if (typeof minDelta !== 'number' || !Number.isFinite(minDelta) || minDelta < 0)
    throw new RangeError(`fit: earlyStopping.minDelta must be a finite number ≥ 0 (the smallest change that counts as an improvement), got ${show(minDelta)}.`);
  const restoreBest = o.restoreBest ?? true;
  if (typeof restoreBest !== 'boolean') throw new TypeError(`fit: earlyStopping.restoreBest must be true or false, got ${show(restoreBest)}.`);
  return { patience, monitor: monitor as Monitor, minDelta, restoreBest };
}
