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
import type { PrivacyOptions } from './privacy.js';
import type { Tensor } from '../core/tensor.js';

/** What fit() reports after each epoch (onEpochEnd, verbose lines, History.epochs). As Keras' `logs` dict. */
export interface EpochLogs {
  /** The epoch, counted from 0. */
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  /** Loss on the validation rows (when there are any). */
  valLoss?: number;
  /** Training accuracy (classification losses only). */
  accuracy?: number;
  /** Validation accuracy (classification losses with validation rows). */
  valAccuracy?: number;
  /** The learning rate at the epoch's end. */
  lr: number;
  /** Private training: the ε spent so far. */
  epsilon?: number;
  /** Wall time of the epoch in ms. */
  ms: number;
}

/** What fit() reports after each batch (onBatchEnd). */
export interface BatchLogs {
  /** The epoch, counted from 0. */
  epoch: number;
  /** The batch within the epoch, counted from 0. */
  batch: number;
  /** Batches trained since fit() began, counted from 0. */
  step: number;
  /** The batch's loss. Reading it costs a readback, so fit reads it only when onBatchEnd is given. */
  loss: number;
  /** The learning rate the batch trained with. */
  lr: number;
  /** Rows in the batch. */
  size: number;
}

/** Functions fit() calls as training goes (Keras' Callback methods; PyTorch has none: its loop is yours). Each may be async. */
export interface Callbacks {
  /** Before the first epoch. */
  onTrainBegin?(): void | Promise<void>;
  /** At the start of each epoch (from 0). */
  onEpochBegin?(epoch: number): void | Promise<void>;
  /** After each batch. Return false to stop training. */
  onBatchEnd?(batch: number, logs: BatchLogs): void | boolean | Promise<void | boolean>;
  /** After each epoch, with its losses and accuracies. Return false to stop training. */
  onEpochEnd?(epoch: number, logs: EpochLogs): void | boolean | Promise<void | boolean>;
  /** After the last epoch, with the history fit() resolves with. */
  onTrainEnd?(history: History): void | Promise<void>;
}

/** fit()'s early stopping, as Keras' `callbacks.EarlyStopping` (PyTorch has none built in). */
export interface EarlyStopping {
  /** Epochs without improvement before stopping. Default 5. Keras: `patience` (default 0 there). */
  patience?: number;
  /** Put back the weights of the best epoch at the end. Default true. Keras: `restore_best_weights` (default False there). */
  restoreBest?: boolean;
  /** What to watch. Default 'valLoss' when there is validation data, else 'loss'. Keras: `monitor` ('val_loss'). */
  monitor?: 'loss' | 'valLoss' | 'accuracy' | 'valAccuracy';
  /** Smallest change that counts as an improvement. Default 0. Keras: `min_delta`. */
  minDelta?: number;
}

/** The options of fit(): as Keras' `model.compile(...)` + `model.fit(...)`, or the loop one writes in PyTorch. */
export interface FitOptions {
  /**
   * The loss to minimise. Required, no default. PyTorch: the loss module (`nn.CrossEntropyLoss` is
   * 'softmaxCrossEntropy', `nn.BCEWithLogitsLoss` 'binaryCrossEntropy', `nn.MSELoss` 'mse'); Keras:
   * `compile(loss=...)` with `from_logits=True`.
   */
  loss: LossName;
  /** The optimizer. Default `adam({lr: 1e-3})`. PyTorch: the `torch.optim` object; Keras: `compile(optimizer=...)`. */
  optimizer?: Optimizer;
  /** Passes over the training rows. Default 10. Keras: `epochs` (default 1); PyTorch: your loop's range. */
  epochs?: number;
  /** Rows per step. Default 32. Keras: `batch_size` (default 32); PyTorch: `DataLoader(batch_size=...)` (default 1). */
  batchSize?: number;
  /** Reshuffle the rows every epoch. Default true. Keras: `shuffle` (default True); PyTorch: `DataLoader(shuffle=True)`. */
  shuffle?: boolean;
  /**
   * Fraction of the rows held out for validation (stratified for class labels), taken before training.
   * Default: none. Keras: `validation_split` (Keras takes the last rows, unshuffled; simdnn samples them).
   */
  validationSplit?: number;
  /** Rows to validate on instead of a split, as [x, y] or {x, y}. Default: none. Keras: `validation_data`. */
  validationData?: [TensorInput, TensorInput] | { x: TensorInput; y: TensorInput };
  /**
   * A learning-rate schedule (see `schedules`). Default: none (the optimizer's lr throughout). PyTorch:
   * a `torch.optim.lr_scheduler` stepped by the loop; Keras: a `LearningRateSchedule` or `LearningRateScheduler` callback.
   */
  schedule?: Schedule;
  /** Stop when the monitored value stops improving: true for the defaults, or settings. Default false. Keras: the `EarlyStopping` callback. */
  earlyStopping?: EarlyStopping | boolean;
  /** Functions called at epoch and batch ends. Default: none. Keras: `callbacks=[...]`. */
  callbacks?: Callbacks;
  /** Seed of shuffling, the validation split and dropout. Default: the model's seed. PyTorch: `torch.manual_seed`; Keras: `keras.utils.set_random_seed`. */
  seed?: number;
  /** 0: silent; 1 or true: one line per epoch on the console. Default 0. Keras: `verbose` (default 'auto'). */
  verbose?: 0 | 1 | boolean;
  /** Huber's delta (loss 'huber' only). Default 1. PyTorch: `nn.HuberLoss(delta=1.0)`; Keras: `Huber(delta=1.0)`. */
  delta?: number;
  /**
   * Give the event loop a turn at least this often, in ms, so a page stays responsive. Default 16. No
   * PyTorch/Keras equivalent (their loops block).
   */
  yieldEvery?: number;
  /**
   * Stops training between batches when aborted (fit then resolves with the history so far). Default:
   * none. No PyTorch/Keras equivalent (Keras: `model.stop_training = True`, here `model.stopTraining`).
   */
  signal?: AbortSignalObject;
  /**
   * Differentially private training (DP-SGD): per-sample gradients clipped to maxGradNorm, Gaussian noise
   * of noiseMultiplier·maxGradNorm, Poisson-sampled batches of expected size batchSize; the ε spent is in
   * the history after every epoch. See PrivacyOptions and the README's section on privacy. Default: off.
   * PyTorch: Opacus `PrivacyEngine.make_private`; Keras: TensorFlow Privacy's `DPKerasSGDOptimizer`.
   */
  privacy?: PrivacyOptions;
}

/** What fit() resolves with: one entry per epoch trained, as Keras' `History.history`. */
export interface History {
  /** Mean training loss per epoch. */
  loss: number[];
  /** Validation loss per epoch (empty without validation rows). */
  valLoss: number[];
  /** Training accuracy per epoch (classification losses; else empty). */
  accuracy: number[];
  /** Validation accuracy per epoch (classification losses with validation rows; else empty). */
  valAccuracy: number[];
  /** The learning rate at each epoch's end. */
  lr: number[];
  /** Every epoch's logs. */
  epochs: EpochLogs[];
  /** Private training: the ε spent by the end of each epoch (δ as in the privacy option). */
  epsilon: number[];
  /** Batches trained. */
  steps: number;
  /** Whether early stopping, a callback, stopTraining or the signal ended training before the last epoch. */
  stoppedEarly: boolean;
  /** Epoch (from 0) with the best monitored value when early stopping ran, else the last. */
  bestEpoch: number;
  /** Wall time of the whole fit() in ms. */
  ms: number;
}

/** The losses that have an accuracy. */
export const CLASS_LOSSES: readonly LossName[] = ['softmaxCrossEntropy', 'binaryCrossEntropy'];

const FIT_KEYS = ['loss', 'optimizer', 'epochs', 'batchSize', 'shuffle', 'validationSplit', 'validationData', 'schedule', 'earlyStopping', 'callbacks', 'seed', 'verbose', 'delta', 'yieldEvery', 'signal', 'privacy'];
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
  /** The privacy option as given (checked against the data in fit, see privacy.ts), or undefined. */
  privacy: PrivacyOptions | undefined;
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
    privacy: options.privacy,
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
