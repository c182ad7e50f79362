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
import { TrainPlan } from './plan.js';
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

const yieldNow = (): Promise<void> =>
  new Promise((resolve) => (typeof (globalThis as any).setImmediate === 'function' ? (globalThis as any).setImmediate(resolve) : setTimeout(resolve, 0)));

/**
 * Trains the model on x [n, inputs] and y, batch by batch, with the compiled step plan. Resolves with the
 * history; rejects with a clear Error on bad options or data, or when the loss diverges.
 */
export async function fit(model: Sequential, xIn: Tensor | TensorLike, yIn: Tensor | TensorLike, options: FitOptions): Promise<History> {
  model.check('fit');
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
  // An optimizer fit() creates is fit()'s to free; one passed in keeps its state for the next fit().
  const ownOptimizer = options.optimizer === undefined;
  const optimizer = options.optimizer ?? adam({ lr: 1e-3 });
  if (!optimizer || typeof (optimizer as Optimizer).step !== 'function') throw new TypeError('fit: optimizer must come from optimizers (e.g. optimizers.adam({lr: 1e-3})).');
  if (options.validationSplit !== undefined && options.validationData !== undefined) throw new TypeError('fit: give validationSplit or validationData, not both.');
  const vs = options.validationSplit;
  if (vs !== undefined && (typeof vs !== 'number' || !(vs > 0 && vs < 1))) throw new RangeError(`fit: validationSplit must be a fraction in (0, 1), got ${String(vs)}.`);
  const es = checkEarlyStopping(options.earlyStopping, loss, vs !== undefined || options.validationData !== undefined);
  const cb = options.callbacks ?? {};

  const owned: Tensor[] = [];
  const take = (v: Tensor | TensorLike, name: string) => {
    const r = asTensor(v, name);
    if (r.own) owned.push(r.t);
    return r.t;
  };
  let plan: TrainPlan | null = null;
  try {
    let x = take(xIn, 'x');
    const y = take(yIn, 'y');
    const { cols: targetCols, ys } = await checkData(model, x, y, loss, '');
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
      await checkData(model, vx, vy, loss, 'validation');
      if (model.preprocessing.scaler) owned.push((vx = model.preprocessing.scaler.transform(vx)));
      valRows = Float32Array.from({ length: vx.shape[0] }, (_, i) => i);
    }
    const n = trainRows.length;
    if (n === 0) throw new RangeError('fit: there are no training rows.');
    plan = new TrainPlan(model.layers, { loss, delta, maxRows: Math.min(batchSize, Math.max(n, valRows?.length ?? 0)), inFeatures: model.inputSize, targetCols });
    plan.setDropoutSeed(seed);
    const params = plan.params(), grads = plan.grads();
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
    await cb.onTrainBegin?.();

    const evaluateRows = async (X: Tensor, Y: Tensor, rows: Float32Array) => {
      plan!.resetTotals();
      for (let s = 0; s < rows.length; s += batchSize) {
        const chunk = rows.subarray(s, Math.min(rows.length, s + batchSize));
        plan!.gather(X, Y, chunk);
        plan!.evaluate(chunk.length);
      }
      const t = await plan!.totals();
      return { loss: t.loss / rows.length, accuracy: t.hits / rows.length };
    };
    const syncLoss = engine.requireBackend().canReadSync;

    outer: for (let epoch = 0; epoch < epochs; epoch++) {
      const te = performance.now();
      await cb.onEpochBegin?.(epoch);
      const order = options.shuffle === false ? trainRows : trainRows.slice();
      if (options.shuffle !== false) shuffler.shuffleInPlace(order);
      let seen = 0, lr = optimizer.lr;
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
        if (syncLoss && !Number.isFinite(batchLoss)) throw diverged(batchLoss, `epoch ${epoch + 1}, batch ${batch + 1} (step ${history.steps + 1})`, lr);
        optimizer.step(params, grads);
        history.steps++;
        seen += rows;
        if (cb.onBatchEnd && (await cb.onBatchEnd(batch, { epoch, batch, step: history.steps, loss: batchLoss, lr, size: rows })) === false) model.stopTraining = true;
        if (model.stopTraining || options.signal?.aborted) {
          if (seen > 0) await recordEpoch(epoch, seen, lr, te);
          break outer;
        }
        if (performance.now() - lastYield >= yieldEvery) {
          await yieldNow();
          lastYield = performance.now();
        }
      }
      const logs = await recordEpoch(epoch, seen, lr, te);
      if (options.verbose) console.log(formatEpoch(logs, epochs));
      if (options.schedule?.kind === 'reduceOnPlateau') plateauLr = options.schedule.observe!(logs.valLoss ?? logs.loss, plateauLr);
      if (es) {
        const v = (logs as any)[monitor] as number;
        if (higher ? v > best + es.minDelta : v < best - es.minDelta) {
          best = v;
          wait = 0;
          history.bestEpoch = epoch;
          // getWeights() reads synchronously; a backend that cannot (webgpu) reads them asynchronously.
          if (es.restoreBest) bestWeights = syncLoss ? model.getWeights() : await Promise.all(model.parameters().map((p) => p.data()));
        } else if (++wait >= es.patience) history.stoppedEarly = true;
      } else history.bestEpoch = epoch;
      // Callbacks see every epoch that ran, including the one that triggers early stopping.
      if (cb.onEpochEnd && (await cb.onEpochEnd(epoch, logs)) === false) break;
      if (history.stoppedEarly || options.signal?.aborted) break;
      await yieldNow();
      lastYield = performance.now();
    }

    async function recordEpoch(epoch: number, seen: number, lr: number, te: number): Promise<EpochLogs> {
      const t = await plan!.totals();
      const lossMean = t.loss / seen, acc = t.hits / seen;
      if (!Number.isFinite(lossMean)) throw diverged(lossMean, `epoch ${epoch + 1}`, lr);
      const logs: EpochLogs = { epoch, loss: lossMean, lr, ms: 0 };
      history.loss.push(lossMean);
      history.lr.push(lr);
      if (classify) {
        logs.accuracy = acc;
        history.accuracy.push(acc);
      }
      if (valRows) {
        const v = await evaluateRows(vx, vy, valRows);
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

    // Restore the best epoch's weights unless the last epoch was the best.
    if (bestWeights && history.bestEpoch !== history.epochs.length - 1) model.setWeights(bestWeights);
    history.ms = performance.now() - t0;
    await cb.onTrainEnd?.(history);
    return history;
  } finally {
    plan?.dispose();
    for (const t of owned) t.dispose();
    if (ownOptimizer) optimizer.dispose();
  }
}

function diverged(loss: number, where: string, lr: number): Error {
  return new Error(
    `fit: training diverged: the loss became ${loss} at ${where}. ` +
      `Lower the learning rate (now ${lr}), scale the inputs (data.standardize), or clip gradients (clipNorm).`,
  );
}

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
  let plan: TrainPlan | null = null;
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
    plan = new TrainPlan(model.layers, { loss: options.loss, delta: options.delta ?? 1, maxRows: Math.min(batchSize, n), inFeatures: model.inputSize, targetCols });
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
  const plan = new TrainPlan(model.layers, { loss, delta, maxRows: x.shape[0], inFeatures: model.inputSize, targetCols });
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
