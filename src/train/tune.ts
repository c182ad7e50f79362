// tune(): hyperparameter search. Random draws from a search space (tune-space.ts), raced by successive
// halving: a bracket starts η² trials (9 with η = 3) for a few epochs, keeps the best third and trains it
// further, and so on up to the full epochs; brackets repeat until the budget (trials, seconds) is spent.
// Every trial is fit() on a validation split (a hold-out, or k folds for small tables), scored on its
// validation rows, and the best is returned, retrained on all the rows when asked. Trials share the
// runtime and run one after another; each one's models and optimizers are freed when it drops out, so
// memory stays flat however many trials run.
import type { AbortSignalObject } from '../core/platform.js';
import { engine } from '../core/engine.js';
import { rng } from '../core/random.js';
import { groupByClass, MAX_ROWS } from '../core/stratify.js';
import { checkOptions, show } from '../core/validate.js';
import type { Tensor } from '../core/tensor.js';
import { Linear } from '../nn/layers.js';
import { getLoss, type LossName } from '../nn/losses.js';
import { mlp, type Preprocessing, type Sequential } from '../nn/model.js';
import { tensor, type TensorLike } from '../ops/creation.js';
import { gatherRows } from '../ops/shape.js';
import type { Optimizer } from '../optim/optimizer.js';
import { adam, adamw, rmsprop, sgd } from '../optim/optimizers.js';
import { cosine, type Schedule } from '../optim/schedules.js';
import { asTensor, checkData, holdOut } from './data.js';
import { evaluate } from './evaluate.js';
import { fit } from './fit.js';
import { CLASS_LOSSES } from './options.js';
import { checkSpace, describeParams, drawParams, type SearchSpace, type Space, type TrialParams } from './tune-space.js';

export type { SearchSpace, TrialParams, Range, HiddenRange, TuneOptimizer } from './tune-space.js';
export { DEFAULT_SPACE, FIXED_DEFAULTS } from './tune-space.js';

/** Builds a trial's model from its draw (with its preprocessing set, if it needs one). tune() disposes it. */
export type ModelBuilder = (params: TrialParams) => Sequential;

/** What ranks trials: validation accuracy, R², or the validation loss (lower is better; scored as −loss). */
export type TuneMetric = 'accuracy' | 'r2' | 'loss';

/** tune()'s progress callbacks (KerasTuner's `on_trial_begin` / `on_trial_end`). */
export interface TuneCallbacks {
  /** A trial starts (or resumes) training towards `epochs`. */
  onTrialBegin?(trial: TrialInfo): void | Promise<void>;
  /** A trial was scored (after each stage of successive halving). Return false to stop the search. */
  onTrialEnd?(trial: TrialInfo, leaderboard: readonly TrialInfo[]): void | boolean | Promise<void | boolean>;
}

/** tune()'s options (scikit-learn's `HalvingRandomSearchCV`, KerasTuner's `Hyperband`). */
export interface TuneOptions {
  /** The loss every trial trains with (required), as fit's `loss`. */
  loss: LossName;
  /** With a builder: the space its draws come from ('auto': DEFAULT_SPACE). */
  space?: SearchSpace | 'auto';
  /** The most trials (configurations) to draw (default 30 when `seconds` is not given). */
  trials?: number;
  /** The most wall time in seconds, the final retraining included (an estimate of it is kept back). */
  seconds?: number;
  /** Epochs of a trial that survives every stage (default: about 2,000 batches of 32, within 20..200). */
  epochs?: number;
  /** Epochs of the first stage (default epochs/η², at least 1). */
  minEpochs?: number;
  /** Successive halving keeps 1/eta of the trials at each stage (default 3). */
  eta?: number;
  /**
   * How trials are scored: a fraction of the rows held out (stratified for class labels), or {folds: k}
   * for k-fold cross-validation (stratified), or 'auto' (default): 5 folds below 600 rows, 3 below
   * 5,000, else 0.2.
   */
  validation?: number | { folds: number } | 'auto';
  /** What ranks trials (default accuracy for the classification losses, else r2). */
  metric?: TuneMetric;
  /**
   * Retrain the best configuration on all the rows (training and validation) for the epochs it reached
   * (default: true with folds, where no single trial model saw every row; false with a hold-out, which
   * returns the trial's own model).
   */
  refit?: boolean;
  /** Seed of the draws, the splits and every trial (default 0): the same seed gives the same trials. */
  seed?: number;
  /**
   * Search-space models only: what the returned model carries (scaler, classes, columns, …). Its scaler
   * is applied to x once, before the search; the trials train on the scaled rows.
   */
  preprocessing?: Preprocessing;
  /**
   * Regression: train on the target standardized (mean 0, std 1 per column) and fold the scaling back into
   * the last linear layer of the returned model, so that it predicts in the target's units. Default: on
   * for mse/mae/huber when the models end in a linear layer with a bias.
   */
  scaleTarget?: boolean;
  /** Huber's delta (default 1). */
  delta?: number;
  /** Stops the search within one batch; tune() then resolves with the best trial so far. */
  signal?: AbortSignalObject;
  /** Progress callbacks: a trial begins, a trial is scored. */
  callbacks?: TuneCallbacks;
}

/** A trial as the leaderboard shows it (a plain object: safe to keep, log or post to a page). */
export interface TrialInfo {
  /** Draw order, from 0. */
  id: number;
  /** The trial's draw from the search space. */
  params: TrialParams;
  /** The varying dimensions, in words. */
  summary: string;
  /** Epochs trained so far (per fold with folds). */
  epochs: number;
  /** Stage of successive halving reached (0 = first); higher stages rank first. */
  stage: number;
  /** The validation score at `epochs` (mean over folds): accuracy, R² or −loss; null before the first stage ends. */
  score: number | null;
  /** The validation loss at `epochs` (mean over folds). */
  valLoss: number | null;
  /** The score at the end of each stage reached. */
  scores: { epochs: number; score: number }[];
  /** Where the trial stands: training, waiting for the next stage, dropped by halving, done, failed, or stopped by the signal or the budget. */
  status: 'running' | 'waiting' | 'dropped' | 'finished' | 'failed' | 'stopped';
  /** Why a trial failed (fit's error: a divergence, a NaN loss). */
  error?: string;
  /** Training time in ms (all folds). */
  ms: number;
}

/** What tune() returns: the best model and the leaderboard. */
export interface TuneResult {
  /** The best model (retrained on every row when refit), or null when no trial finished a stage. */
  model: Sequential | null;
  /** The best trial's draw, or null. */
  params: TrialParams | null;
  /** The best trial's validation score, or null. */
  score: number | null;
  /** Every trial, best first (higher stage, then higher score); failed trials last. */
  leaderboard: TrialInfo[];
  /** What ranked the trials. */
  metric: TuneMetric;
  /** How the trials were scored: a hold-out fraction, or k folds. */
  validation: { kind: 'holdout'; fraction: number } | { kind: 'folds'; folds: number };
  /** Whether `model` was retrained on all the rows. */
  refit: boolean;
  /** Trials drawn. */
  trials: number;
  /** Epochs trained over all trials and folds (the refit not included). */
  epochs: number;
  /** Why the search ended: every trial ran, the time was up, the signal was aborted, or a callback said stop. */
  stopped: 'done' | 'time' | 'aborted' | 'callback';
  /** Wall time in ms, the refit included. */
  ms: number;
}

const KEYS = ['loss', 'space', 'trials', 'seconds', 'epochs', 'minEpochs', 'eta', 'validation', 'metric', 'refit', 'seed', 'preprocessing', 'scaleTarget', 'delta', 'signal', 'callbacks'];
const REGRESSION: readonly LossName[] = ['mse', 'mae', 'huber'];
/**
 * 'auto' validation: 5 folds below 600 rows (a 20% hold-out would be a few dozen rows), 3 folds below
 * 5,000, a 20% hold-out above. Measured on digits (1,437 training rows, 60 s, seeds 0..2): 3 folds picked
 * models that scored 0.978, 0.986, 0.989 on the test split, a hold-out 0.972, 0.981, 0.978: selecting on
 * 290 validation rows is noisier than the difference between the good configurations.
 */
function autoValidation(n: number): number | { folds: number } {
  return n < 600 ? { folds: 5 } : n < 5000 ? { folds: 3 } : 0.2;
}

interface Settings {
  loss: LossName;
  trials: number;
  deadline: number;
  epochs: number | null;
  minEpochs: number | null;
  eta: number;
  validation: number | { folds: number } | 'auto';
  metric: TuneMetric;
  refit: boolean | undefined;
  seed: number;
  preprocessing: Preprocessing | undefined;
  scaleTarget: boolean | undefined;
  delta: number;
  signal: AbortSignalObject | undefined;
  callbacks: TuneCallbacks;
}

/** A slice of the rows: where trials train and are scored. */
interface Part {
  x: Tensor;
  y: Tensor;
  vx: Tensor;
  vy: Tensor;
  /** Training rows (for the time estimate of the refit). */
  rows: number;
}

/** One fold's model and optimizer of a trial. */
interface Member {
  model: Sequential;
  optimizer: Optimizer;
  score: number;
}

interface Trial {
  info: TrialInfo;
  members: Member[];
  /** Training ms per epoch of one member (for the refit estimate). */
  msPerEpoch: number;
  /**
   * The best trial's weights when it was scored, per member: a stage cut short by the budget leaves the
   * models part-way into the next stage, and the answer must be the model that earned the score.
   */
  scored: Float32Array[][] | null;
}

/**
 * Searches hyperparameters for a model of x [n, inputs] and y. The first argument is a search space
 * (MLPs are built from its draws: hidden sizes, activation, dropout; the optimizer from lr, weight decay,
 * batch size and kind), 'auto' for DEFAULT_SPACE, or a builder (params) => Sequential with options.space.
 * Resolves with the best model and the leaderboard; rejects with a clear Error on bad options or data, or
 * when every trial failed. Reproducible: the same seed draws the same trials, and a trial's training
 * depends only on its draw (a time budget decides how many of them run).
 */
export async function tune(spaceOrBuilder: SearchSpace | 'auto' | ModelBuilder, xIn: Tensor | TensorLike, yIn: Tensor | TensorLike, options: TuneOptions): Promise<TuneResult> {
  const t0 = performance.now();
  const op = 'tune';
  const s = settings(options, op, t0);
  const builder = typeof spaceOrBuilder === 'function' ? spaceOrBuilder : null;
  if (builder && options.preprocessing !== undefined) throw new TypeError(`${op}: preprocessing is for search-space models; a builder sets its model's preprocessing itself.`);
  if (!builder && options.space !== undefined) throw new TypeError(`${op}: options.space goes with a builder; with a search space as the first argument, leave it out.`);
  const rawSpace = builder ? options.space ?? 'auto' : spaceOrBuilder;
  const space = rawSpace === 'auto' ? checkSpace({}, false, op, true) : checkSpace(rawSpace, !!builder, op);
  return new Search(s, space, builder, t0).run(xIn, yIn);
}

function settings(options: TuneOptions, op: string, t0: number): Settings {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${op}: options {loss} are required, e.g. {loss: 'softmaxCrossEntropy', seconds: 60}.`);
  const o = checkOptions(options, KEYS, op) as TuneOptions;
  getLoss(o.loss, op);
  const int = (v: unknown, name: string, min: number): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`${op}: ${name} must be an integer ≥ ${min}, got ${show(v)}.`);
    return v;
  };
  if (o.trials !== undefined && (typeof o.trials !== 'number' || !(o.trials > 0)))
    throw new RangeError(`${op}: trials must be a positive integer (the budget of configurations to try), got ${show(o.trials)}.`);
  const trials = int(o.trials, 'trials', 1);
  if (o.seconds !== undefined && (typeof o.seconds !== 'number' || !(o.seconds > 0) || !Number.isFinite(o.seconds)))
    throw new RangeError(`${op}: seconds must be a positive number (the time budget), got ${show(o.seconds)}.`);
  const epochs = int(o.epochs, 'epochs', 1) ?? null;
  const minEpochs = int(o.minEpochs, 'minEpochs', 1) ?? null;
  if (epochs !== null && minEpochs !== null && minEpochs > epochs) throw new RangeError(`${op}: minEpochs (${minEpochs}) must not exceed epochs (${epochs}).`);
  const eta = o.eta ?? 3;
  if (typeof eta !== 'number' || !(eta >= 2) || !Number.isFinite(eta)) throw new RangeError(`${op}: eta must be a number ≥ 2 (successive halving keeps 1/eta of the trials at each stage), got ${show(eta)}.`);
  const v = o.validation ?? 'auto';
  if (v !== 'auto') {
    if (typeof v === 'number') {
      if (!(v > 0 && v < 1)) throw new RangeError(`${op}: validation must be a fraction in (0, 1), {folds: k} or 'auto', got ${v}.`);
    } else if (typeof v !== 'object' || v === null) throw new TypeError(`${op}: validation must be a fraction in (0, 1), {folds: k} or 'auto', got ${show(v)}.`);
    else {
      checkOptions(v, ['folds'], op, 'validation');
      int((v as { folds: number }).folds, 'validation.folds', 2);
      if ((v as { folds?: number }).folds === undefined) throw new TypeError(`${op}: validation {folds} needs the number of folds, e.g. {folds: 5}.`);
    }
  }
  const classify = CLASS_LOSSES.includes(o.loss);
  const metric = o.metric ?? (classify ? 'accuracy' : 'r2');
  if (!['accuracy', 'r2', 'loss'].includes(metric)) throw new RangeError(`${op}: metric must be 'accuracy', 'r2' or 'loss', got ${show(metric)}.`);
  if (metric === 'accuracy' && !classify) throw new RangeError(`${op}: metric 'accuracy' needs a classification loss (softmaxCrossEntropy or binaryCrossEntropy); with '${o.loss}' use 'r2' or 'loss'.`);
  if (metric === 'r2' && classify) throw new RangeError(`${op}: metric 'r2' is for regression; with '${o.loss}' use 'accuracy' or 'loss'.`);
  for (const k of ['refit', 'scaleTarget'] as const)
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new TypeError(`${op}: ${k} must be true or false, got ${show(o[k])}.`);
  if (o.scaleTarget && !REGRESSION.includes(o.loss)) throw new RangeError(`${op}: scaleTarget is for regression losses (mse, mae, huber), not '${o.loss}'.`);
  const seed = o.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) throw new RangeError(`${op}: seed must be a non-negative integer, got ${show(seed)}.`);
  const delta = o.delta ?? 1;
  if (typeof delta !== 'number' || !(delta > 0) || !Number.isFinite(delta)) throw new RangeError(`${op}: delta must be a positive finite number, got ${show(delta)}.`);
  if (o.preprocessing !== undefined && (typeof o.preprocessing !== 'object' || o.preprocessing === null)) throw new TypeError(`${op}: preprocessing must be an object such as {scaler: data.standardize(x)}, got ${show(o.preprocessing)}.`);
  const cb = o.callbacks ?? {};
  if (typeof cb !== 'object' || cb === null) throw new TypeError(`${op}: callbacks must be an object {onTrialBegin?, onTrialEnd?}, got ${show(cb)}.`);
  checkOptions(cb, ['onTrialBegin', 'onTrialEnd'], op, 'callbacks');
  for (const [k, f] of Object.entries(cb)) if (f !== undefined && typeof f !== 'function') throw new TypeError(`${op}: callbacks.${k} must be a function, got ${show(f)}.`);
  return {
    loss: o.loss,
    trials: trials ?? (o.seconds === undefined ? 30 : Infinity),
    deadline: o.seconds === undefined ? Infinity : t0 + o.seconds * 1000,
    epochs, minEpochs, eta, validation: v, metric,
    refit: o.refit, seed, preprocessing: o.preprocessing, scaleTarget: o.scaleTarget, delta, signal: o.signal, callbacks: cb,
  };
}

/** One tune() call: its data, its trials, and the loop over brackets. */
class Search {
  private readonly owned: Tensor[] = [];
  private readonly all: Trial[] = [];
  private parts: Part[] = [];
  private X!: Tensor;
  private Y!: Tensor;
  private inputs = 0;
  private outputs = 0;
  /** Target standardization (per column), or null. */
  private target: { mean: Float64Array; std: Float64Array } | null = null;
  private epochsTrained = 0;
  private stopped: TuneResult['stopped'] = 'done';
  /** The trial whose models are kept as the answer (without refit), or null. */
  private keep: Trial | null = null;
  private refitEstimate = 0;
  private readonly r;

  constructor(
    private readonly s: Settings,
    private readonly space: Space,
    private readonly builder: ModelBuilder | null,
    private readonly t0: number,
  ) {
    this.r = rng(s.seed);
  }

  async run(xIn: Tensor | TensorLike, yIn: Tensor | TensorLike): Promise<TuneResult> {
    try {
      await this.prepare(xIn, yIn);
      await this.search();
      return await this.finish();
    } finally {
      for (const t of this.all) if (t !== this.keep) this.free(t);
      if (this.keep) this.free(this.keep);
      for (const t of this.owned) t.dispose();
    }
  }

  private take(v: Tensor | TensorLike, name: string): Tensor {
    const r = asTensor(v, name, 'tune');
    if (r.own) this.owned.push(r.t);
    return r.t;
  }

  /** Reads and checks the data (against a first model), scales it, and cuts the validation parts. */
  private async prepare(xIn: Tensor | TensorLike, yIn: Tensor | TensorLike): Promise<void> {
    const { s } = this;
    let x = this.take(xIn, 'x');
    let y = this.take(yIn, 'y');
    if (x.rank !== 2) throw new RangeError(`tune: x must be [rows, features], got shape [${x.shape.join(', ')}].`);
    const n = x.shape[0];
    if (n > MAX_ROWS) throw new RangeError(`tune: x has ${n} rows, more than the ${MAX_ROWS} (2^24) that fit() can address.`);
    const ys = await y.data();
    this.inputs = x.shape[1];
    this.outputs = s.loss === 'softmaxCrossEntropy' ? (y.rank === 2 ? y.shape[1] : maxLabel(ys) + 1) : y.rank === 2 ? y.shape[1] : 1;
    // The first draw's model checks the data as fit() would (shapes, labels in range, finite values).
    const probe = this.build(drawParams(this.space, rng(s.seed ^ 0x2545f491), 0));
    try {
      await checkData(probe, x, y, s.loss, '', 'tune');
      this.target = this.targetScaling(probe, ys, y);
    } finally {
      probe.dispose();
    }
    if (!this.builder && s.preprocessing?.scaler) this.owned.push((x = s.preprocessing.scaler.transform(x)));
    if (this.target) {
      const { mean, std } = this.target, k = mean.length;
      this.owned.push((y = tensor(Float32Array.from(ys, (v, i) => (v - mean[i % k]) / std[i % k]), y.shape)));
    }
    this.X = x;
    this.Y = y;
    const labels = s.loss === 'softmaxCrossEntropy' && y.rank === 1 ? ys : null;
    const v = s.validation === 'auto' ? autoValidation(n) : s.validation;
    const splits = typeof v === 'number' ? [holdOutRows(n, v, labels, s.seed)] : foldRows(n, v.folds, labels, s.seed);
    for (const sp of splits) {
      const g = (t: Tensor, rows: Float32Array) => {
        const r = gatherRows(t, rows);
        this.owned.push(r);
        return r;
      };
      this.parts.push({ x: g(x, sp.train), y: g(y, sp.train), vx: g(x, sp.val), vy: g(y, sp.val), rows: sp.train.length });
    }
    this.validation = typeof v === 'number' ? { kind: 'holdout', fraction: v } : { kind: 'folds', folds: v.folds };
    this.refit = s.refit ?? typeof v !== 'number';
    this.maxEpochs = s.epochs ?? Math.min(200, Math.max(20, Math.round(2000 / Math.ceil(this.parts[0].rows / 32))));
    const max = this.maxEpochs;
    const first = Math.min(max, s.minEpochs ?? Math.max(1, Math.round(max / s.eta ** 2)));
    // Stages: the full epochs divided by η, η², … down to about `first`: [6, 19, 56] for 56 epochs.
    const k = 1 + Math.floor(Math.log(max / first) / Math.log(s.eta) + 1e-9);
    this.stages = [];
    for (let i = k - 1; i >= 0; i--) {
      const e = Math.max(1, Math.round(max / s.eta ** i));
      if (e > (this.stages.at(-1) ?? 0)) this.stages.push(e);
    }
  }

  private validation: TuneResult['validation'] = { kind: 'holdout', fraction: 0.2 };
  private refit = false;
  private maxEpochs = 0;
  private stages: number[] = [];

  /** The target's standardization, when it applies (regression, and a last layer it can be folded into). */
  private targetScaling(probe: Sequential, ys: Float32Array, y: Tensor): { mean: Float64Array; std: Float64Array } | null {
    const { s } = this;
    if (!REGRESSION.includes(s.loss) || s.scaleTarget === false) return null;
    if (!foldable(probe)) {
      if (s.scaleTarget) throw new RangeError('tune: scaleTarget folds the target scaling into the last layer, which must be a linear layer with a bias and no activation; the model does not end in one.');
      return null;
    }
    const k = y.rank === 2 ? y.shape[1] : 1, rows = ys.length / k;
    const mean = new Float64Array(k), std = new Float64Array(k);
    for (let i = 0; i < ys.length; i++) mean[i % k] += ys[i] / rows;
    for (let i = 0; i < ys.length; i++) std[i % k] += (ys[i] - mean[i % k]) ** 2 / rows;
    for (let j = 0; j < k; j++) std[j] = std[j] > 0 ? Math.sqrt(std[j]) : 1;
    return { mean, std };
  }

  private build(p: TrialParams): Sequential {
    if (this.builder) {
      const m = this.builder(p);
      if (!m || typeof (m as Sequential).forward !== 'function' || !Array.isArray((m as Sequential).layers))
        throw new TypeError(`tune: the builder must return a model (mlp(...) or sequential(...)), got ${show(m)}.`);
      return m;
    }
    return mlp([this.inputs, ...p.hidden, this.outputs], { activation: p.activation, dropout: p.dropout, seed: p.seed });
  }

  private optimizer(p: TrialParams): Optimizer {
    const o = { lr: p.lr, weightDecay: p.weightDecay };
    switch (p.optimizer) {
      case 'adamw': return adamw(o);
      case 'sgd': return sgd({ ...o, momentum: 0.9, nesterov: true });
      case 'rmsprop': return rmsprop(o);
      default: return adam(o);
    }
  }

  /** Whether the search must stop now, and why. */
  private timeUp(): boolean {
    if (this.s.signal?.aborted) {
      this.stopped = 'aborted';
      return true;
    }
    if (performance.now() > this.s.deadline - this.refitEstimate) {
      this.stopped = 'time';
      return true;
    }
    return this.stopped === 'callback';
  }

  /** Brackets of successive halving until the budget is spent. */
  private async search(): Promise<void> {
    const { s, stages } = this;
    const full = Math.round(s.eta ** (stages.length - 1));
    while (this.all.length < s.trials && !this.timeUp()) {
      let live: Trial[] = [];
      const n = Math.min(full, s.trials - this.all.length);
      for (let i = 0; i < n; i++) {
        const seed = this.r.int(2 ** 31);
        const params = drawParams(this.space, this.r, seed);
        const t: Trial = {
          info: { id: this.all.length, params, summary: describeParams(params, this.space.varying), epochs: 0, stage: 0, score: null, valLoss: null, scores: [], status: 'waiting', ms: 0 },
          members: [],
          msPerEpoch: 0,
          scored: null,
        };
        this.all.push(t);
        live.push(t);
      }
      for (let stage = 0; stage < stages.length && live.length; stage++) {
        for (const t of live) {
          if (this.timeUp()) break;
          await this.advance(t, stage);
        }
        if (this.timeUp()) {
          for (const t of live) if (t.info.status === 'waiting' || t.info.status === 'running') this.done(t, 'stopped');
          return;
        }
        const ok = live.filter((t) => t.info.status !== 'failed').sort(byRank);
        const last = stage === stages.length - 1;
        const keep = last ? 0 : Math.max(1, Math.floor(ok.length / s.eta));
        ok.slice(keep).forEach((t) => this.done(t, last ? 'finished' : 'dropped'));
        live = ok.slice(0, keep);
      }
    }
  }

  /** Trains a trial (every fold) up to stage `stage`'s epochs and scores it. */
  private async advance(t: Trial, stage: number): Promise<void> {
    const s = this.s, info = t.info;
    const to = this.stages[stage];
    info.status = 'running';
    await s.callbacks.onTrialBegin?.({ ...info, params: { ...info.params } });
    const scores: number[] = [], losses: number[] = [];
    let ms = 0;
    try {
      for (let j = 0; j < this.parts.length; j++) {
        const part = this.parts[j];
        let m = t.members[j];
        if (!m) {
          const model = this.build(info.params);
          try {
            t.members[j] = m = { model, optimizer: this.optimizer(info.params), score: NaN };
          } catch (e) {
            model.dispose();
            throw e;
          }
        }
        let cut = false;
        const h = await fit(m.model, part.x, part.y, {
          loss: s.loss, optimizer: m.optimizer, epochs: to - info.epochs, batchSize: info.params.batchSize,
          // A stage's seed: the trial's, moved on by the epochs done, so that a resumed trial reshuffles anew.
          seed: (info.params.seed + info.epochs * 7919) % 2 ** 31, delta: s.delta,
          schedule: continued(this.maxEpochs, info.epochs),
          callbacks: { onBatchEnd: () => (this.timeUp() ? ((cut = true), false) : undefined) },
        });
        this.epochsTrained += h.epochs.length;
        ms += h.ms;
        if (cut || h.epochs.length < to - info.epochs) {
          info.ms += ms;
          this.done(t, 'stopped');
          return;
        }
        // Scored once per stage, not every epoch (fit's validationData would evaluate every epoch).
        const v = await evaluate(m.model, part.vx, part.vy, { loss: s.loss, delta: s.delta });
        m.score = s.metric === 'loss' ? -v.loss : s.metric === 'accuracy' ? v.accuracy! : await r2(m.model, part.vx, part.vy);
        if (!Number.isFinite(m.score) || !Number.isFinite(v.loss)) throw new Error(`the validation ${s.metric === 'r2' ? 'R²' : s.metric} is ${Number.isFinite(v.loss) ? m.score : `NaN (loss ${v.loss})`}`);
        scores.push(m.score);
        losses.push(v.loss);
      }
    } catch (e) {
      info.ms += ms;
      info.error = e instanceof Error ? e.message : String(e);
      this.done(t, 'failed');
      await this.report(t);
      return;
    }
    t.msPerEpoch = ms / this.parts.length / (to - info.epochs);
    info.ms += ms;
    info.epochs = to;
    info.stage = stage;
    info.score = mean(scores);
    info.valLoss = mean(losses);
    info.scores.push({ epochs: to, score: info.score });
    info.status = stage === this.stages.length - 1 ? 'finished' : 'waiting';
    await this.promote(t);
    await this.report(t);
  }

  /**
   * Keeps the best trial's models (the answer without refit, and after an abort, which skips the refit),
   * and the refit's time estimate.
   */
  private async promote(t: Trial): Promise<void> {
    if (this.best() !== t) return;
    t.scored = await Promise.all(t.members.map((m) => Promise.all(m.model.parameters().map((p) => p.data()))));
    // Retraining runs every row for the trial's epochs: its share of the budget is kept back.
    // A quarter more for what the estimate cannot see (a busier machine, the first step's recording).
    if (this.refit) this.refitEstimate = 1.25 * t.msPerEpoch * (this.X.shape[0] / this.parts[0].rows) * t.info.epochs;
    if (this.keep !== t) {
      const old = this.keep;
      this.keep = t;
      if (old && !['waiting', 'running'].includes(old.info.status)) this.free(old);
    }
  }

  private best(): Trial | null {
    let b: Trial | null = null;
    for (const t of this.all) if (t.info.score !== null && t.info.status !== 'failed' && (!b || byRank(t, b) < 0)) b = t;
    return b;
  }

  /** A trial leaves the race: its models go, unless they are the answer. */
  private done(t: Trial, status: TrialInfo['status']): void {
    t.info.status = status;
    // A kept trial that fails is no answer (the next best, if its models are gone, is retrained).
    if (status === 'failed' && t === this.keep) this.keep = null;
    if (t !== this.keep) this.free(t);
  }

  private free(t: Trial): void {
    for (const m of t.members) {
      m.model.dispose();
      m.optimizer.dispose();
    }
    t.members = [];
    t.scored = null;
  }

  private async report(t: Trial): Promise<void> {
    const cb = this.s.callbacks.onTrialEnd;
    if (!cb) return;
    const board = this.leaderboard();
    if ((await cb(board.find((i) => i.id === t.info.id)!, board)) === false) this.stopped = 'callback';
  }

  private leaderboard(): TrialInfo[] {
    return this.all
      .slice()
      .sort(byRank)
      .map((t) => ({ ...t.info, params: { ...t.info.params }, scores: t.info.scores.slice() }));
  }

  /** The answer: the best trial's model (retrained on every row when refit), with the target scaling folded in. */
  private async finish(): Promise<TuneResult> {
    const best = this.best();
    const failed = this.all.filter((t) => t.info.status === 'failed');
    if (!best && failed.length && failed.length === this.all.filter((t) => t.info.status !== 'stopped').length)
      throw new Error(
        `tune: all ${failed.length} trial${failed.length === 1 ? '' : 's'} that ran failed; the first: ${failed[0].info.error} ` +
          '(a loss that diverges in every trial usually means unscaled inputs or targets, or bad values: give preprocessing {scaler: data.standardize(x)}, or lower the learning rates of the space).',
      );
    if (!best && this.stopped === 'time')
      throw new Error(
        `tune: the time budget ran out before any trial finished its first stage (${this.stages[0]} epoch${this.stages[0] === 1 ? '' : 's'}${this.parts.length > 1 ? ` on each of ${this.parts.length} folds` : ''}); give more seconds, or fewer epochs (minEpochs).`,
      );
    let model: Sequential | null = null;
    let refit = false;
    if (best) {
      if (this.refit && this.stopped !== 'aborted') {
        model = await this.retrain(best);
        refit = model !== null;
      }
      // Without refit, or when aborted: the best trial's own model, as it was when scored.
      if (!model && best === this.keep) model = await this.handOut(best);
      // Its models are gone (it was dropped before a better trial failed): trained again, unless aborted.
      if (!model && this.stopped !== 'aborted') {
        model = await this.retrain(best);
        refit = model !== null;
      }
      if (model) {
        if (this.target) await foldTarget(model, this.target);
        if (!this.builder && this.s.preprocessing) model.preprocessing = { ...this.s.preprocessing };
      }
    }
    return {
      model, params: best ? { ...best.info.params } : null, score: best?.info.score ?? null, leaderboard: this.leaderboard(), metric: this.s.metric,
      validation: this.validation, refit, trials: this.all.length, epochs: this.epochsTrained, stopped: this.stopped, ms: performance.now() - this.t0,
    };
  }

  /** The kept trial's best-scoring member, its weights put back to those it was scored with; the trial lets go of it. */
  private async handOut(t: Trial): Promise<Sequential | null> {
    if (!t.members.length || !t.scored) return null;
    let k = 0;
    t.members.forEach((m, i) => (k = m.score > t.members[k].score ? i : k));
    const m = t.members[k], weights = t.scored[k];
    const be = engine.requireBackend();
    m.model.parameters().forEach((p, i) => p.size && be.write(p.handle('tune'), weights[i]));
    t.members.splice(k, 1);
    t.scored.splice(k, 1);
    m.optimizer.dispose();
    return m.model;
  }

  /** The best draw trained on every row for the epochs it reached; null when the signal aborts it. */
  private async retrain(best: Trial): Promise<Sequential | null> {
    const p = best.info.params;
    const model = this.build(p);
    const optimizer = this.optimizer(p);
    try {
      const h = await fit(model, this.X, this.Y, {
        loss: this.s.loss, optimizer, epochs: best.info.epochs, batchSize: p.batchSize, seed: p.seed, delta: this.s.delta,
        schedule: continued(best.info.epochs, 0), signal: this.s.signal,
      });
      if (this.s.signal?.aborted) {
        this.stopped = 'aborted';
        model.dispose();
        return null;
      }
      if (h.epochs.length < best.info.epochs) throw new Error(`stopped after ${h.epochs.length} of ${best.info.epochs} epochs`);
      return model;
    } catch (e) {
      model.dispose();
      throw new Error(`tune: retraining the best trial (${best.info.summary}) on all the rows failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      optimizer.dispose();
    }
  }
}

/** Higher stage first, then the higher score, then the lower validation loss; failed and unscored trials last. */
function byRank(a: Trial, b: Trial): number {
  const A = a.info, B = b.info;
  const ka = A.status === 'failed' || A.score === null ? 1 : 0, kb = B.status === 'failed' || B.score === null ? 1 : 0;
  if (ka !== kb) return ka - kb;
  if (A.stage !== B.stage) return B.stage - A.stage;
  if ((A.score ?? 0) !== (B.score ?? 0)) return (B.score ?? 0) - (A.score ?? 0);
  if ((A.valLoss ?? 0) !== (B.valLoss ?? 0)) return (A.valLoss ?? 0) - (B.valLoss ?? 0);
  return A.id - B.id;
}

/** Cosine annealing over `tMax` epochs, entered at epoch `from` (a trial resumed at a later stage). */
function continued(tMax: number, from: number): Schedule {
  const inner = cosine({ tMax });
  return {
    kind: inner.kind, unit: 'epoch', options: inner.options,
    begin() {},
    lr: (base, at) => inner.lr(base, { epoch: at.epoch + from, step: at.step }),
    endEpoch() {},
    reset() {},
    toJSON: () => inner.toJSON(),
  };
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

function maxLabel(ys: Float32Array): number {
  let m = 0;
  for (let i = 0; i < ys.length; i++) if (ys[i] > m) m = ys[i];
  return m;
}

/** R² of the model's predictions on vx against vy, averaged over the target's columns (scikit-learn's uniform average). */
async function r2(model: Sequential, vx: Tensor, vy: Tensor): Promise<number> {
  const out = model.predict(vx);
  let p: Float32Array;
  try {
    p = await out.data();
  } finally {
    out.dispose();
  }
  const t = await vy.data();
  const k = p.length / vy.shape[0];
  const rows = vy.shape[0];
  let total = 0;
  for (let j = 0; j < k; j++) {
    let mu = 0;
    for (let i = 0; i < rows; i++) mu += t[i * k + j] / rows;
    let ss = 0, sr = 0;
    for (let i = 0; i < rows; i++) {
      ss += (t[i * k + j] - mu) ** 2;
      sr += (t[i * k + j] - p[i * k + j]) ** 2;
    }
    // A constant column: perfect predictions score 1, others 0 (scikit-learn's convention).
    total += ss > 0 ? 1 - sr / ss : sr === 0 ? 1 : 0;
  }
  return total / k;
}

/** Whether the model ends in a linear layer with a bias and no activation (the target scaling folds into it). */
function foldable(m: Sequential): boolean {
  const last = m.layers[m.layers.length - 1];
  return last instanceof Linear && last.activation === 'linear' && last.bias !== null;
}

/** y = z·std + mean folded into the last linear layer: W ← W·std (per output column), b ← b·std + mean. */
async function foldTarget(model: Sequential, { mean, std }: { mean: Float64Array; std: Float64Array }): Promise<void> {
  const last = model.layers[model.layers.length - 1] as Linear;
  const be = engine.requireBackend();
  const k = mean.length;
  const w = await last.weight.data(), b = await last.bias!.data();
  for (let i = 0; i < w.length; i++) w[i] *= std[i % k];
  for (let j = 0; j < k; j++) b[j] = b[j] * std[j] + mean[j];
  be.write(last.weight.handle('tune'), w);
  be.write(last.bias!.handle('tune'), b);
}

/** A hold-out split, with the fraction checked against the rows (one row each side at least). */
function holdOutRows(n: number, frac: number, labels: Float32Array | null, seed: number): { train: Float32Array; val: Float32Array } {
  const held = Math.floor(n * frac + 0.5);
  if (held < 1 || n - held < 1) throw new RangeError(`tune: validation ${frac} of ${n} rows leaves ${held < 1 ? 'no validation row' : 'no training row'}; use more rows or another fraction, or {folds: k}.`);
  return holdOut(n, frac, labels, seed ^ 0x5bd1e995);
}

/**
 * k folds, stratified for class labels: each class's rows are shuffled and dealt to the folds in turn,
 * continuing from where the previous class stopped, so folds differ in size by one row at most.
 */
function foldRows(n: number, k: number, labels: Float32Array | null, seed: number): { train: Float32Array; val: Float32Array }[] {
  if (n < k) throw new RangeError(`tune: ${k} folds need at least ${k} rows, got ${n}; use fewer folds or a hold-out fraction.`);
  const r = rng(seed ^ 0x68e31da4);
  const { rows, start } = groupByClass(labels, n);
  const fold = new Uint8Array(n);
  let at = 0;
  for (let c = 0; c + 1 < start.length; c++) {
    const own = r.shuffleInPlace(rows.slice(start[c], start[c + 1]));
    for (let i = 0; i < own.length; i++) fold[own[i]] = at++ % k;
  }
  return Array.from({ length: k }, (_, f) => {
    let nv = 0;
    for (let i = 0; i < n; i++) if (fold[i] === f) nv++;
    const train = new Float32Array(n - nv), val = new Float32Array(nv);
    for (let i = 0, a = 0, b = 0; i < n; i++) {
      if (fold[i] === f) val[b++] = i;
      else train[a++] = i;
    }
    return { train, val };
  });
}
