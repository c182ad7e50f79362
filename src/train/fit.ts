import { rng } from '../data/random.js';
import { engine } from '../engine.js';
import { getLoss, type LossName } from '../losses.js';
import { Sequential } from '../nn/model.js';
import { tensor, type TensorLike } from '../ops/creation.js';
import { fmtShape } from '../ops/util.js';
import { adam } from '../optim/optimizers.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Schedule } from '../optim/schedules.js';
import { tidy } from '../runtime.js';
import { noGrad } from '../autograd/api.js';
import { sum } from '../ops/reduce.js';
import { Tensor } from '../tensor.js';
import { Steps } from './step.js';
import { apportion, groupByClass, MAX_ROWS } from '../data/stratify.js';

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
  validationData?: [Tensor | TensorLike, Tensor | TensorLike] | { x: Tensor | TensorLike; y: Tensor | TensorLike };
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
  signal?: AbortSignal;
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

const FIT_KEYS = new Set(['loss', 'optimizer', 'epochs', 'batchSize', 'shuffle', 'validationSplit', 'validationData', 'schedule', 'earlyStopping', 'callbacks', 'seed', 'verbose', 'delta', 'yieldEvery', 'signal']);
const EARLY_KEYS = ['patience', 'restoreBest', 'monitor', 'minDelta'];
const MONITORS = ['loss', 'valLoss', 'accuracy', 'valAccuracy'];
const CLASS_LOSSES: readonly LossName[] = ['softmaxCrossEntropy', 'binaryCrossEntropy'];

/**
 * Divergence short of NaN (a blow-up): the mean training loss of two epochs in a row, or of the epoch
 * that ends fit(), above BLOW_UP times a reference. The reference is the larger of the loss of a
 * constant prediction (ln k for softmax cross-entropy, ln 2 for binary cross-entropy, the targets'
 * spread about their mean for regression) and, measured the first time an epoch passes BLOW_UP times
 * that, the loss over the same training rows of the weights at the end of the last epoch under the
 * limit (or of those before training).
 * - Every epoch averages over the same rows, so the ratio compares like with like: no sampling luck
 *   (an easy first batch, a heavy-tailed target) makes it 1000-fold; training lowers it.
 * - The second reference keeps a bad start (unscaled inputs, far worse than a constant) from counting.
 * - Two epochs: a loss with bounded gradients (mae, huber) under plain sgd on unscaled inputs was seen
 *   to spike past 1000 times within an epoch and come back the next; a blow-up stays.
 * Over the runs of the test suite the epochs' mean loss never passed 5.1 times the constant
 * prediction's (nor 1.07 times the reference). Backends that read synchronously also test the running
 * sum after every batch where passing would fire: it only grows within an epoch, so passing
 * n·BLOW_UP·reference midway means the epoch's mean passes too.
 */
export const BLOW_UP = 1e3;

/** Layers that a fit() is training: a second fit() on them would interleave its steps with the first's. */
const training = new WeakSet<object>();

function posInt(v: unknown, name: string, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`fit: ${name} must be a positive integer, got ${String(v)}.`);
  return v;
}

const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : String(v));

interface Early {
  patience: number;
  monitor: string;
  minDelta: number;
  restoreBest: boolean;
}

/** The earlyStopping option, checked in full before any work (a typo must not quietly stop training). */
function checkEarlyStopping(v: unknown, loss: LossName, hasVal: boolean): Early | null {
  if (v === undefined || v === null || v === false) return null;
  if (v === true) v = {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw new TypeError(`fit: earlyStopping must be true, false or an object such as {patience: 5, monitor: 'valLoss'}, got ${show(v)}.`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!EARLY_KEYS.includes(k)) throw new TypeError(`fit: earlyStopping has an unknown option '${k}'; known options: ${EARLY_KEYS.join(', ')}.`);
  const patience = posInt(o.patience, 'earlyStopping.patience', 5);
  const monitor = o.monitor ?? (hasVal ? 'valLoss' : 'loss');
  if (typeof monitor !== 'string' || !MONITORS.includes(monitor)) {
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
  return { patience, monitor, minDelta, restoreBest };
}

function checkRows(n: number, what: string, op: string): void {
  if (n > MAX_ROWS)
    throw new RangeError(
      `${op}: ${what} has ${n} rows, more than the ${MAX_ROWS} (2^24) that ${op} can address (the backend indexes rows with float32); ` +
        `use a sample, or parts of at most ${MAX_ROWS} rows.`,
    );
}

const asTensor = (v: Tensor | TensorLike, name: string): { t: Tensor; own: boolean } => {
  if (v instanceof Tensor) {
    v.handle('fit');
    return { t: v, own: false };
  }
  if (v === undefined || v === null) throw new TypeError(`fit: ${name} is missing.`);
  return { t: tensor(v as TensorLike), own: true };
};

/** Checks the data against the model and the loss; returns the target's columns (0 for class indices) and its values. */
async function checkData(model: Sequential, x: Tensor, y: Tensor, loss: LossName, what: string, op = 'fit'): Promise<{ cols: number; ys: Float32Array }> {
  // Before reading anything: past MAX_ROWS the reads would be wasted.
  if (x.rank > 0) checkRows(x.shape[0], what ? `${what} x` : 'x', op);
  const ys = await y.data();
  // x is often the whole dataset: check it where it lives instead of copying it out (a copy would
  // double the data's memory at the start of every fit). A float32 sum is finite only if every
  // value is finite (NaN and ±Inf propagate); x is copied out only when the sum is not finite (a bad
  // value, or an overflow), to name the culprit.
  const xs = (await allFinite(x)) ? null : await x.data();
  const cols = checkValues(model, x, y, loss, what, xs, ys, op);
  return { cols, ys };
}

async function allFinite(x: Tensor): Promise<boolean> {
  if (x.size === 0) return true;
  const total = noGrad(() => sum(x));
  try {
    return Number.isFinite((await total.data())[0]);
  } finally {
    total.dispose();
  }
}

function checkValues(model: Sequential, x: Tensor, y: Tensor, loss: LossName, what: string, xs: Float32Array | null, ys: Float32Array, op = 'fit'): number {
  model.checkInput(x, op);
  if (what) what += ' ';
  const n = x.shape[0], out = model.outputSize;
  if (y.shape[0] !== n) throw new RangeError(`${op}: ${what}x has ${n} rows but y has ${y.shape[0] ?? 0}; they must have one target per row.`);
  if (xs)
    for (let i = 0; i < xs.length; i++)
      if (!Number.isFinite(xs[i]))
        throw new RangeError(`${op}: ${what}x holds ${xs[i]} at row ${Math.floor(i / x.shape[1])}, column ${i % x.shape[1]}; clean the data first (data.readCsv drops or imputes missing values).`);
  for (let i = 0; i < ys.length; i++)
    if (!Number.isFinite(ys[i])) throw new RangeError(`${op}: ${what}y holds ${ys[i]} at index ${i}; targets must be finite numbers.`);
  if (loss === 'softmaxCrossEntropy') {
    if (y.rank === 1) {
      for (let i = 0; i < ys.length; i++)
        if (!Number.isInteger(ys[i]) || ys[i] < 0 || ys[i] >= out)
          throw new RangeError(`${op}: label ${ys[i]} at row ${i} is not a class index in 0..${out - 1} (the model has ${out} outputs); encode labels as 0..${out - 1} or widen the output layer.`);
      return 0;
    }
    if (y.rank === 2 && y.shape[1] === out) return out;
    throw new RangeError(`${op}: softmaxCrossEntropy takes y as class indices [${n}] or one-hot [${n}, ${out}], got ${fmtShape(y.shape)}.`);
  }
  if (y.rank === 1 && out === 1) return 1;
  if (y.rank === 2 && y.shape[1] === out) return out;
  throw new RangeError(`${op}: the model has ${out} output${out > 1 ? 's' : ''}, so y must be [${n}, ${out}]${out === 1 ? ` or [${n}]` : ''}; got ${fmtShape(y.shape)}.` + (y.rank === 1 && out > 1 ? " For class labels use loss: 'softmaxCrossEntropy'." : ''));
}

/**
 * Splits rows into train/validation index lists (each ascending), holding out round(n·frac) rows.
 * With class labels the held-out rows are spread over the classes by largest remainder (stratify.ts,
 * as data.split does), each class keeping at least one training row; ties go by the seed.
 */
export function holdOut(n: number, frac: number, labels: ArrayLike<number> | null, seed: number): { train: Float32Array; val: Float32Array } {
  // Half up, forgiving the float error of n·frac (0.7 × 5 is 3.4999999999999996 in float64).
  const held = (f: number) => Math.floor(n * f + 0.5 + n * f * 1e-12);
  const nVal = held(frac);
  if (nVal < 1)
    throw new RangeError(
      `fit: validationSplit ${frac} of ${n} rows is ${+(n * frac).toPrecision(3)} rows, which rounds to none; ` +
        `use validationSplit ≥ ${shortest(0.5 / n, 'up', (f) => held(f) >= 1)} to hold out at least one row, or pass validationData.`,
    );
  const r = rng(seed);
  const { classes, rows, start } = groupByClass(labels, n);
  const k = classes.length;
  const counts = new Array<number>(k), caps = new Array<number>(k);
  for (let i = 0; i < k; i++) caps[i] = (counts[i] = start[i + 1] - start[i]) - 1;
  const per = apportion(counts, nVal, caps, r);
  if (!per) {
    const singles = counts.filter((c) => c === 1).length;
    throw new RangeError(
      labels
        ? `fit: validationSplit ${frac} would hold out ${nVal} of ${n} rows, but each of the ${k} classes keeps at least one row for training` +
            `${singles ? ` (${singles} of them have a single row)` : ''}, so at most ${n - k} can be held out; ` +
            (n > k ? `use validationSplit ≤ ${shortest((n - k) / n, 'down', (f) => held(f) === n - k)}, or pass validationData.` : 'pass validationData instead.')
        : `fit: validationSplit ${frac} of ${n} rows holds out ${nVal}, which leaves no row to train on; use a smaller validationSplit or more rows.`,
    );
  }
  const isVal = new Uint8Array(n);
  for (let i = 0; i < k; i++) {
    const own = r.shuffleInPlace(rows.subarray(start[i], start[i + 1]));
    for (let j = 0; j < per[i]; j++) isVal[own[j]] = 1;
  }
  const train = new Float32Array(n - nVal), val = new Float32Array(nVal);
  for (let i = 0, t = 0, v = 0; i < n; i++) {
    if (isVal[i]) val[v++] = i;
    else train[t++] = i;
  }
  return { train, val };
}

/** v rounded up or down to the fewest decimals that still pass `ok` (for a bound in a message). */
function shortest(v: number, dir: 'up' | 'down', ok: (f: number) => boolean): number {
  for (let d = 1; d < 16; d++) {
    const f = (dir === 'up' ? Math.ceil(v * 10 ** d) : Math.floor(v * 10 ** d)) / 10 ** d;
    if (ok(f)) return f;
  }
  return v;
}

/**
 * The mean loss of a constant prediction (uniform for softmax cross-entropy, logit 0 for binary
 * cross-entropy, each target column's mean for regression): the scale the blow-up test measures against.
 */
function constantLoss(loss: LossName, ys: Float32Array, cols: number, outputs: number, delta: number): number {
  if (loss === 'softmaxCrossEntropy') return Math.log(outputs);
  if (loss === 'binaryCrossEntropy') return Math.LN2;
  const k = Math.max(1, cols), rows = ys.length / k;
  if (rows === 0) return 0;
  const mean = new Float64Array(k);
  for (let i = 0; i < ys.length; i++) mean[i % k] += ys[i];
  for (let j = 0; j < k; j++) mean[j] /= rows;
  let s = 0;
  for (let i = 0; i < ys.length; i++) {
    const d = Math.abs(ys[i] - mean[i % k]);
    s += loss === 'mse' ? d * d : loss === 'mae' ? d : d <= delta ? 0.5 * d * d : delta * (d - 0.5 * delta);
  }
  return s / ys.length;
}

const yieldNow = (): Promise<void> =>
  new Promise((resolve) => (typeof (globalThis as any).setImmediate === 'function' ? (globalThis as any).setImmediate(resolve) : setTimeout(resolve, 0)));

/**
 * Trains the model on x [n, inputs] and y, batch by batch, with the compiled step plan. Resolves with the
 * history; rejects with a clear Error on bad options or data, or when the loss diverges (NaN, infinite,
 * or a blow-up, see BLOW_UP), in which case the model is put back to its weights at the end of the
 * last epoch before the divergence (or to those it had before fit()).
 *
 * One fit() at a time per model: a second one while the first runs is refused (their steps would
 * interleave on the same weights). predict() and evaluate() may run meanwhile (from a callback or
 * another task): JavaScript runs them between two batches, so they see the weights after the last
 * completed step and leave training as it would have been. Disposing the model during fit() stops it
 * with an error saying so.
 */
export async function fit(model: Sequential, xIn: Tensor | TensorLike, yIn: Tensor | TensorLike, options: FitOptions): Promise<History> {
  model.check('fit');
  if (model.layers.some((l) => training.has(l))) throw new Error('fit: fit is already running on this model; await the first fit() or train a copy (load(save(model))).');
  for (const l of model.layers) training.add(l);
  try {
    return await train(model, xIn, yIn, options);
  } finally {
    for (const l of model.layers) training.delete(l);
  }
}

async function train(model: Sequential, xIn: Tensor | TensorLike, yIn: Tensor | TensorLike, options: FitOptions): Promise<History> {
  if (typeof options !== 'object' || options === null) throw new TypeError("fit: options are required, at least {loss}, e.g. {loss: 'softmaxCrossEntropy', epochs: 10}.");
  for (const k of Object.keys(options)) if (!FIT_KEYS.has(k)) throw new TypeError(`fit: unknown option '${k}'; known options: ${[...FIT_KEYS].join(', ')}.`);
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
  const es = checkEarlyStopping(options.earlyStopping, loss, vs !== undefined || options.validationData !== undefined);
  const cb = options.callbacks ?? {};
  if (options.optimizer != null && typeof (options.optimizer as Optimizer).step !== 'function')
    throw new TypeError('fit: optimizer must come from optimizers (e.g. optimizers.adam({lr: 1e-3})).');
  // An optimizer fit() creates is fit()'s to free; one passed in keeps its state for the next fit().
  const ownOptimizer = options.optimizer == null;
  const optimizer = options.optimizer ?? adam({ lr: 1e-3 });

  const owned: Tensor[] = [];
  const take = (v: Tensor | TensorLike, name: string) => {
    const r = asTensor(v, name);
    if (r.own) owned.push(r.t);
    return r.t;
  };
  // Between two awaits nothing else runs; across one, a callback or another task may have disposed the
  // model, after which its weights' memory may belong to something else: every await checks.
  // Where training is, for that message: numbers, as a string built every batch would cost.
  const at = { epoch: 0, batch: 0, phase: 'start' as 'start' | 'epoch' | 'batch' | 'test' | 'end' | 'done' };
  const where = (): string => {
    const e = `epoch ${at.epoch + 1}`;
    return { start: 'before the first batch', epoch: `${e}, before its first batch`, batch: `${e}, after batch ${at.batch + 1}`, test: `${e}, batch ${at.batch + 1}, testing for a blow-up`, end: `${e}, at its end`, done: 'in onTrainEnd' }[at.phase];
  };
  const alive = (): void => {
    if (model.isDisposed || model.layers.some((l) => l.params().some((p) => p.isDisposed)))
      throw new Error(`fit: the model was disposed during fit (${where()}); fit stopped. Dispose it after fit() settles; to end training early, set model.stopTraining = true or abort the signal.`);
  };
  const settle = async <T>(v: T | Promise<T>): Promise<T> => {
    const r = await v;
    alive();
    return r;
  };
  let plan: Steps | null = null;
  const good: Tensor[] = [];
  try {
    let x = take(xIn, 'x');
    const y = take(yIn, 'y');
    const { cols: targetCols, ys } = await settle(checkData(model, x, y, loss, ''));
    if (model.preprocessing.scaler) owned.push((x = model.preprocessing.scaler.transform(x)));
    let trainRows: Float32Array = Float32Array.from({ length: x.shape[0] }, (_, i) => i);
    let valRows: Float32Array | null = null;
    let vx = x, vy = y;
    if (vs !== undefined) ({ train: trainRows, val: valRows } = holdOut(x.shape[0], vs, targetCols === 0 ? ys : null, seed ^ 0x5bd1e995));
    else if (options.validationData) {
      const vd = options.validationData as any;
      const [a, b] = Array.isArray(vd) ? vd : [vd.x, vd.y];
      vx = take(a, 'validationData x');
      vy = take(b, 'validationData y');
      await settle(checkData(model, vx, vy, loss, 'validation'));
      if (model.preprocessing.scaler) owned.push((vx = model.preprocessing.scaler.transform(vx)));
      valRows = Float32Array.from({ length: vx.shape[0] }, (_, i) => i);
    }
    const n = trainRows.length;
    if (n === 0) throw new RangeError('fit: there are no training rows.');
    const planOptions = { loss, delta, inFeatures: model.inputSize, targetCols };
    plan = new Steps(model.layers, { ...planOptions, maxRows: Math.min(batchSize, Math.max(n, valRows?.length ?? 0)) });
    plan.setDropoutSeed(seed);
    const params = plan.params;
    const be = engine.requireBackend();
    // The weights to go back to if training diverges: those at the end of the last epoch that passed.
    const alloc = (into: Tensor[]) => {
      for (const p of params) into.push(new Tensor(p.shape, engine.newStorage(p.size), false));
    };
    alloc(good);
    let goodEpoch = -1;
    const copyAll = (from: readonly Tensor[], to: readonly Tensor[]) => from.forEach((t, i) => t.size && be.copy(t.size, t.handle('fit'), to[i].handle('fit')));
    copyAll(params, good);
    const classify = CLASS_LOSSES.includes(loss);
    const shuffler = rng(seed);
    const history: History = { loss: [], valLoss: [], accuracy: [], valAccuracy: [], lr: [], epochs: [], steps: 0, stoppedEarly: false, bestEpoch: 0, ms: 0 };
    const monitor = es?.monitor ?? 'loss';
    const higher = monitor === 'accuracy' || monitor === 'valAccuracy';
    let best = higher ? -Infinity : Infinity, wait = 0, bestWeights: Float32Array[] | null = null;
    // The schedule scales the optimizer's configured rate (not whatever rate an earlier fit() left).
    const baseLr = options.schedule ? optimizer.options.lr : optimizer.lr;
    let plateauLr = baseLr;
    options.schedule?.reset();
    if (options.schedule?.kind === 'oneCycle') {
      const total = Number(options.schedule.options.totalSteps);
      const need = epochs * Math.ceil(n / batchSize);
      if (total < need) throw new RangeError(`fit: the oneCycle schedule has totalSteps ${total} but training runs ${need} batches (${epochs} epochs × ${Math.ceil(n / batchSize)}); set totalSteps to at least ${need}.`);
    }
    const t0 = performance.now();
    let lastYield = t0;
    model.stopTraining = false;
    const batchRows = new Float32Array(Math.min(batchSize, n)); // a batchSize above the row count is one batch
    await settle(cb.onTrainBegin?.());

    const evaluateRows = async (p: Steps, X: Tensor, Y: Tensor, rows: Float32Array) => {
      p.resetTotals();
      for (let s = 0; s < rows.length; s += batchSize) {
        const chunk = rows.subarray(s, Math.min(rows.length, s + batchSize));
        p.gather(X, Y, chunk);
        p.evaluate(chunk.length);
      }
      const t = await settle(p.totals());
      return { loss: t.loss / rows.length, accuracy: t.hits / rows.length };
    };
    const syncLoss = be.canReadSync;

    // The blow-up test (BLOW_UP): `base` is known from the data; `goodLoss`, the loss of the `good`
    // weights over the training rows, is measured the first time the loss passes BLOW_UP × base.
    const base = constantLoss(loss, ys, targetCols, model.outputSize, delta);
    let goodLoss: number | null = null;
    const limit = () => BLOW_UP * Math.max(base, goodLoss ?? 0) * n;
    // The cheap test, on an epoch's running sum of rows × loss; blownUp() settles it.
    const tripped = (sum: number) => sum > limit() && (goodLoss === null || limit() > 0);
    // Whether the last recorded epoch's mean was over the limit. One epoch over is not yet a blow-up:
    // a loss with bounded gradients (mae, huber) can spike that high for a few batches and come back.
    let lastOver = false;
    const blownUp = async (sum: number): Promise<boolean> => {
      if (goodLoss === null) goodLoss = await lossOfGood();
      return limit() > 0 && sum > limit();
    };
    // Swaps the `good` weights in, runs them over the training rows with a plan of their own (the
    // training plan's totals hold the epoch so far), and puts the current weights back.
    const lossOfGood = async (): Promise<number> => {
      const keep: Tensor[] = [];
      let probe: Steps | null = null;
      try {
        alloc(keep);
        copyAll(params, keep);
        copyAll(good, params);
        probe = new Steps(model.layers, { ...planOptions, maxRows: Math.min(batchSize, n) });
        return (await evaluateRows(probe, x, y, trainRows)).loss;
      } finally {
        if (keep.length === params.length && !params.some((p) => p.isDisposed)) copyAll(keep, params);
        probe?.dispose();
        for (const t of keep) t.dispose();
      }
    };
    // Training diverged: the weights go back to `good`, and the message says so.
    const diverge = (why: string): Error => {
      copyAll(good, params);
      return new Error(
        `${why} The model is back to ${goodEpoch < 0 ? 'the weights it had before this fit()' : `its weights at the end of epoch ${goodEpoch + 1}, the last epoch before the divergence`}.` +
          (ownOptimizer ? '' : ' The optimizer holds the diverged steps in its state: train again with a new one.'),
      );
    };

    const stepAt = (epoch: number, batch: number) => `epoch ${epoch + 1}, batch ${batch + 1} (step ${history.steps + 1})`;

    outer: for (let epoch = 0; epoch < epochs; epoch++) {
      const te = performance.now();
      at.epoch = epoch;
      at.phase = 'epoch';
      await settle(cb.onEpochBegin?.(epoch));
      const order = options.shuffle === false ? trainRows : trainRows.slice();
      if (options.shuffle !== false) shuffler.shuffleInPlace(order);
      let seen = 0, lr = optimizer.lr, epochSum = 0;
      plan.resetTotals();
      for (let start = 0, batch = 0; start < n; start += batchSize, batch++) {
        const rows = Math.min(batchSize, n - start);
        const idx = batchRows.subarray(0, rows);
        idx.set(order.subarray(start, start + rows));
        lr = options.schedule ? (options.schedule.kind === 'reduceOnPlateau' ? plateauLr : options.schedule.lr(baseLr, { epoch, step: history.steps })) : optimizer.lr;
        optimizer.lr = lr;
        plan.gather(x, y, idx);
        plan.computeGradients(rows);
        // Backends that read synchronously check every batch; the others once per epoch (below).
        const batchLoss = syncLoss ? plan.lastLoss() : NaN;
        if (syncLoss) {
          if (!Number.isFinite(batchLoss)) throw diverge(diverged(batchLoss, stepAt(epoch, batch), lr));
          epochSum += batchLoss * rows;
          at.batch = batch;
          at.phase = 'test';
          // Only where this epoch's being over would fire (after an epoch over the limit, or in the last);
          // awaits only when the cheap test trips (an await per batch would let other tasks in every step).
          if ((lastOver || epoch === epochs - 1) && tripped(epochSum) && (await blownUp(epochSum)))
            throw diverge(blewUp(epochSum / (seen + rows), stepAt(epoch, batch), lr, base, goodLoss!, lastOver ? history.loss[epoch - 1] : null));
        }
        optimizer.step(params, plan.grads());
        history.steps++;
        seen += rows;
        at.batch = batch;
        at.phase = 'batch';
        if (cb.onBatchEnd && (await settle(cb.onBatchEnd(batch, { epoch, batch, step: history.steps, loss: batchLoss, lr, size: rows }))) === false) model.stopTraining = true;
        if (model.stopTraining || options.signal?.aborted) {
          if (seen > 0) await recordEpoch(epoch, seen, lr, te);
          break outer;
        }
        if (performance.now() - lastYield >= yieldEvery) {
          await settle(yieldNow());
          lastYield = performance.now();
        }
      }
      const logs = await recordEpoch(epoch, seen, lr, te);
      if (!lastOver) {
        copyAll(params, good);
        goodEpoch = epoch;
      }
      if (options.verbose) console.log(formatEpoch(logs, epochs));
      if (options.schedule?.kind === 'reduceOnPlateau') plateauLr = options.schedule.observe!(logs.valLoss ?? logs.loss, plateauLr);
      at.phase = 'end';
      if (es) {
        const v = (logs as any)[monitor] as number;
        if (higher ? v > best + es.minDelta : v < best - es.minDelta) {
          best = v;
          wait = 0;
          history.bestEpoch = epoch;
          // getWeights() reads synchronously; a backend that cannot (webgpu) reads them asynchronously.
          if (es.restoreBest) bestWeights = syncLoss ? model.getWeights() : await settle(Promise.all(params.map((p) => p.data())));
        } else if (++wait >= es.patience) history.stoppedEarly = true;
      } else history.bestEpoch = epoch;
      // Callbacks see every epoch that ran, including the one that triggers early stopping.
      if (cb.onEpochEnd && (await settle(cb.onEpochEnd(epoch, logs))) === false) break;
      if (history.stoppedEarly || options.signal?.aborted) break;
      await settle(yieldNow());
      lastYield = performance.now();
    }

    async function recordEpoch(epoch: number, seen: number, lr: number, te: number): Promise<EpochLogs> {
      at.epoch = epoch;
      at.phase = 'end';
      const t = await settle(plan!.totals());
      const lossMean = t.loss / seen, acc = t.hits / seen;
      if (!Number.isFinite(lossMean)) throw diverge(diverged(lossMean, `epoch ${epoch + 1}`, lr));
      const over = tripped(t.loss) && (await blownUp(t.loss));
      if (over && lastOver) throw diverge(blewUp(lossMean, `epoch ${epoch + 1}`, lr, base, goodLoss!, history.loss[epoch - 1]));
      lastOver = over;
      const logs: EpochLogs = { epoch, loss: lossMean, lr, ms: 0 };
      history.loss.push(lossMean);
      history.lr.push(lr);
      if (classify) {
        logs.accuracy = acc;
        history.accuracy.push(acc);
      }
      if (valRows) {
        const v = await evaluateRows(plan!, vx, vy, valRows);
        logs.valLoss = v.loss;
        history.valLoss.push(v.loss);
        if (classify) {
          logs.valAccuracy = v.accuracy;
          history.valAccuracy.push(v.accuracy);
        }
      }
      logs.ms = performance.now() - te;
      history.epochs.push(logs);
      return logs;
    }

    // A fit that ends on an epoch over the limit ends blown up (the last epoch, or stopped right there).
    if (lastOver) throw diverge(blewUp(history.loss.at(-1)!, `epoch ${history.epochs.length}, the last`, history.lr.at(-1)!, base, goodLoss!, null));
    // Restore the best epoch's weights unless the last epoch was the best.
    if (bestWeights && history.bestEpoch !== history.epochs.length - 1) model.setWeights(bestWeights);
    history.ms = performance.now() - t0;
    at.phase = 'done';
    await settle(cb.onTrainEnd?.(history));
    return history;
  } finally {
    plan?.dispose();
    for (const t of good) t.dispose();
    for (const t of owned) t.dispose();
    if (ownOptimizer) optimizer.dispose();
  }
}

function diverged(loss: number, where: string, lr: number): string {
  return (
    `fit: training diverged: the loss became ${loss} at ${where}. ` +
    `Lower the learning rate (now ${lr}), scale the inputs (data.standardize), or clip gradients (clipNorm).`
  );
}

function blewUp(loss: number, where: string, lr: number, base: number, goodLoss: number, before: number | null): string {
  const ref = goodLoss > base ? `its value before the blow-up (${fmt(goodLoss)})` : `the loss of a constant prediction (${fmt(base)})`;
  return (
    `fit: training diverged: the loss grew to ${fmt(loss)} at ${where}${before === null ? '' : ` (and ${fmt(before)} in the epoch before)`}, over ${BLOW_UP} times ${ref}. ` +
    `Lower the learning rate (now ${lr}), scale the inputs (data.standardize), or clip gradients (clipNorm).`
  );
}

const fmt = (v: number): string => (v !== 0 && (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3) ? v.toExponential(2) : String(+v.toPrecision(3)));

function formatEpoch(l: EpochLogs, epochs: number): string {
  const w = String(epochs).length;
  let s = `epoch ${String(l.epoch + 1).padStart(w)}/${epochs}  loss ${l.loss.toFixed(4)}`;
  if (l.accuracy !== undefined) s += `  acc ${l.accuracy.toFixed(4)}`;
  if (l.valLoss !== undefined) s += `  val_loss ${l.valLoss.toFixed(4)}`;
  if (l.valAccuracy !== undefined) s += `  val_acc ${l.valAccuracy.toFixed(4)}`;
  return `${s}  lr ${l.lr.toPrecision(3)}  ${l.ms.toFixed(0)} ms`;
}

export interface EvaluateResult {
  loss: number;
  accuracy?: number;
}

/** Loss (and accuracy for classification losses) of the model on x, y, without training. */
export async function evaluate(model: Sequential, xIn: Tensor | TensorLike, yIn: Tensor | TensorLike, options: { loss: LossName; batchSize?: number; delta?: number }): Promise<EvaluateResult> {
  model.check('evaluate');
  if (!options || typeof options !== 'object') throw new TypeError("evaluate: options {loss} are required, e.g. {loss: 'mse'}.");
  getLoss(options.loss, 'evaluate');
  const batchSize = posInt(options.batchSize, 'batchSize', 256);
  const owned: Tensor[] = [];
  let plan: Steps | null = null;
  try {
    const X = asTensor(xIn, 'x'), Y = asTensor(yIn, 'y');
    if (X.own) owned.push(X.t);
    if (Y.own) owned.push(Y.t);
    let x = X.t;
    const y = Y.t;
    const { cols: targetCols } = await checkData(model, x, y, options.loss, '', 'evaluate');
    if (model.preprocessing.scaler) owned.push((x = model.preprocessing.scaler.transform(x)));
    const n = x.shape[0];
    if (n === 0) throw new RangeError('evaluate: x has no rows.');
    plan = new Steps(model.layers, { loss: options.loss, delta: options.delta ?? 1, maxRows: Math.min(batchSize, n), inFeatures: model.inputSize, targetCols });
    for (let s = 0; s < n; s += batchSize) {
      plan.gather(x, y, Float32Array.from({ length: Math.min(batchSize, n - s) }, (_, i) => s + i));
      plan.evaluate(Math.min(batchSize, n - s));
    }
    const t = await plan.totals();
    const res: EvaluateResult = { loss: t.loss / n };
    if (options.loss === 'softmaxCrossEntropy' || options.loss === 'binaryCrossEntropy') res.accuracy = t.hits / n;
    return res;
  } finally {
    plan?.dispose();
    for (const t of owned) t.dispose();
  }
}

/** @internal The plan's gradients for one batch (the tests compare them with autograd). */
export function planGradients(model: Sequential, x: Tensor, y: Tensor, loss: LossName, delta = 1): { loss: number; grads: Float32Array[] } {
  const targetCols = checkValues(model, x, y, loss, '', x.dataSync(), y.dataSync());
  const plan = new Steps(model.layers, { loss, delta, maxRows: x.shape[0], inFeatures: model.inputSize, targetCols });
  try {
    plan.setDropoutSeed(model.seed);
    plan.gather(x, y, Float32Array.from({ length: x.shape[0] }, (_, i) => i));
    plan.computeGradients(x.shape[0]);
    return { loss: plan.lastLoss(), grads: plan.grads().map((g) => g.dataSync()) };
  } finally {
    plan.dispose();
  }
}

declare module '../nn/model.js' {
  interface Sequential {
    /** Trains the model; see FitOptions. */
    fit(x: Tensor | TensorLike, y: Tensor | TensorLike, options: FitOptions): Promise<History>;
    evaluate(x: Tensor | TensorLike, y: Tensor | TensorLike, options: { loss: LossName; batchSize?: number; delta?: number }): Promise<EvaluateResult>;
  }
}
Sequential.prototype.fit = function (x, y, options) {
  return fit(this, x, y, options);
};
Sequential.prototype.evaluate = function (x, y, options) {
  return evaluate(this, x, y, options);
};
