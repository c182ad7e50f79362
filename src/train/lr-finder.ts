// lrFinder(): Leslie Smith's learning-rate range test (fastai's lr_find). The rate rises exponentially from
// minLr to maxLr, one training step per rate, on a copy of the model; the loss of each step is recorded,
// smoothed, and read for a suggestion. The steps are fit()'s recorded steps (step.ts: the first step of
// the batch size runs through the layers, the loss and autograd while its backend calls are recorded,
// every later step replays them) and the optimizer is stepped with its rate set per step, as a schedule
// sets it: no second copy of the math.
import type { AbortSignalObject } from '../core/platform.js';
import { engine } from '../core/engine.js';
import { rng } from '../core/random.js';
import { checkOptions } from '../core/validate.js';
import { Tensor } from '../core/tensor.js';
import { getLoss, type LossName } from '../nn/losses.js';
import { isLoadableLayerType, layerFromConfig, type Layer } from '../nn/layers.js';
import type { Sequential } from '../nn/model.js';
import type { TensorLike } from '../ops/creation.js';
import { lrFindSettings, type LrCurve, type LrFindSettings } from '../optim/lr-find.js';
import type { Optimizer } from '../optim/optimizer.js';
import { adam, fromJSON as optimizerFromJSON } from '../optim/optimizers.js';
import { asTensor, checkData } from './data.js';
import { hold } from './lock.js';
import { posInt } from './options.js';
import { Steps } from './step.js';

/** lrFinder's options (fastai's `Learner.lr_find`; PyTorch and Keras have no built-in range test). */
export interface LrFinderOptions extends LrFindSettings {
  /** The loss to train with (required), as fit's `loss`. */
  loss: LossName;
  /**
   * The optimizer to test (default adam). Only its kind and options are read: the test steps a fresh
   * one of the same kind, so this one's state and rate are left as they are.
   */
  optimizer?: Optimizer;
  /** Lowest rate tried (default 1e-7). */
  minLr?: number;
  /** Highest rate tried (default 10); the test usually stops before, when the loss diverges. */
  maxLr?: number;
  /** Rates tried, one training step each (default 100). */
  steps?: number;
  /** Weight of the running average of the loss, in [0, 1) (default 0.8; 0 leaves the curve raw). */
  smoothing?: number;
  /** Rows per step (default 32): test with the batch size you will train with. */
  batchSize?: number;
  /** Stop when the smoothed loss passes this many times its lowest value so far (default 4). */
  divergence?: number;
  /** Seed of the batch order and dropout (default: the model's seed). */
  seed?: number;
  /** Huber's delta (default 1). */
  delta?: number;
  /** Stops the test between two steps; the result then holds the rates tried so far. */
  signal?: AbortSignalObject;
}

/** What lrFinder returns: the curve, the suggested rate and why the test ended. */
export interface LrFinderResult extends LrCurve {
  /** The rates tried, one per step, rising exponentially from minLr. */
  lrs: number[];
  /** The training loss of each step's batch (before that step's update). */
  losses: number[];
  /** The losses as a bias-corrected running average (what the suggestion reads). */
  smoothed: number[];
  /** The suggested rate: the one at the lowest smoothed loss, divided by 10 (LR_SUGGESTION says why). */
  suggestion: number;
  /** The lowest point of the smoothed curve. */
  minimum: { lr: number; loss: number };
  /** The rate where the smoothed loss falls fastest (per decade of rate), before the minimum. */
  steepest: number;
  /** Why the test ended before maxLr: the loss diverged, or the signal was aborted; null when it ran every step. */
  stopped: 'diverged' | 'aborted' | null;
  /** Wall time of the test in ms. */
  ms: number;
}

/**
 * The rule behind the suggestion: minimum/10, the rate one decade below the lowest point of the smoothed
 * curve, which is where the loss stops falling and starts to diverge (Smith's "an order of magnitude
 * below"). Both of fastai's classic rules were measured (`node bench/tune.mjs --finder`: 4 seeds × 2
 * widths, one-cycle training at the suggested peak for 20 epochs, test splits of 20%): minimum/10 reached
 * mean test accuracies of 0.975 on digits (worst run 0.969), 0.963 on iris (0.933), 0.962 on wine
 * (0.944) and 0.974 on breast cancer (0.965); the steepest descent 0.975 on digits but 0.833 on iris
 * (0.800), 0.969 on wine (0.917) and 0.965 on breast cancer (0.947): on a small table the steepest stretch
 * of a noisy curve is often early, at a rate too low to train in 20 epochs.
 */
export const LR_SUGGESTION = 'minimum/10';

/** The fewest recorded steps a suggestion is made from. */
const MIN_POINTS = 8;

const KEYS = ['loss', 'optimizer', 'minLr', 'maxLr', 'steps', 'smoothing', 'batchSize', 'divergence', 'seed', 'delta', 'signal'];

/** What the test runs with: options checked, defaults applied. */
export interface FinderSettings extends Required<LrFindSettings> {
  loss: LossName;
  optimizer: Optimizer | undefined;
  batchSize: number;
  divergence: number;
  seed: number;
  delta: number;
  signal: AbortSignalObject | undefined;
  /** The caller already holds the model (fit): an in-place test must not take it again. */
  locked: boolean;
}

/** The rows a test draws its batches from. */
export interface FinderData {
  /** Features, already scaled by the model's scaler. */
  x: Tensor;
  y: Tensor;
  /** Row numbers of x and y to train on. */
  rows: Float32Array;
  /** Columns of the target per row: 0 for class indices. */
  targetCols: number;
}

function settings(model: Sequential, options: Partial<FinderSettings> & Record<string, unknown>, op: string, keys: readonly string[]): FinderSettings {
  checkOptions(options, keys, op);
  getLoss(options.loss as LossName, op);
  const range = lrFindSettings({ minLr: options.minLr, maxLr: options.maxLr, steps: options.steps, smoothing: options.smoothing }, op);
  const divergence = options.divergence ?? 4;
  if (typeof divergence !== 'number' || !(divergence > 1) || !Number.isFinite(divergence))
    throw new RangeError(`${op}: divergence must be a finite number > 1 (the smoothed loss's multiple of its lowest value at which the test stops), got ${String(divergence)}.`);
  const seed = options.seed ?? model.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) throw new RangeError(`${op}: seed must be a non-negative integer, got ${String(seed)}.`);
  const delta = options.delta ?? 1;
  if (typeof delta !== 'number' || !(delta > 0) || !Number.isFinite(delta)) throw new RangeError(`${op}: delta must be a positive finite number, got ${String(delta)}.`);
  if (options.optimizer != null && typeof (options.optimizer as Optimizer).toJSON !== 'function')
    throw new TypeError(`${op}: optimizer must come from optimizers (e.g. optimizers.adam()).`);
  return {
    ...range,
    loss: options.loss as LossName,
    optimizer: options.optimizer ?? undefined,
    batchSize: posInt(options.batchSize, 'batchSize', 32, op),
    divergence,
    seed,
    delta,
    signal: options.signal,
    locked: options.locked === true,
  };
}

/**
 * Runs a learning-rate range test on `model` with x [n, inputs] and y (raw features: the model's scaler
 * is applied, as fit() applies it) and returns the curve and a suggested rate. The test trains a copy of
 * the model (layers rebuilt from their configs, weights copied); a model with a layer that cannot be
 * rebuilt (a custom type not registered with layers.register) is tested in place instead, held against
 * fit() meanwhile, and its weights are put back afterwards. Either way the model's weights and the
 * optimizer's state are bit for bit what they were. Rejects with a clear Error on bad options or data, or
 * when the loss diverges before MIN_POINTS steps (minLr is too high, or the data cannot be learnt).
 */
export async function lrFinder(model: Sequential, xIn: Tensor | TensorLike, yIn: Tensor | TensorLike, options: LrFinderOptions): Promise<LrFinderResult> {
  const op = 'lrFinder';
  model.check(op);
  if (typeof options !== 'object' || options === null) throw new TypeError("lrFinder: options {loss} are required, e.g. {loss: 'softmaxCrossEntropy'}.");
  const s = settings(model, options as unknown as Record<string, unknown>, op, KEYS);
  // The subject is settled before the first await: a fit() started meanwhile must find the model held.
  const subject = testSubject(model, s);
  const owned: Tensor[] = [];
  try {
    const X = asTensor(xIn, 'x', op), Y = asTensor(yIn, 'y', op);
    if (X.own) owned.push(X.t);
    if (Y.own) owned.push(Y.t);
    let x = X.t;
    const y = Y.t;
    const { cols: targetCols } = await checkData(model, x, y, s.loss, '', op);
    subject.alive();
    if (model.preprocessing.scaler) owned.push((x = model.preprocessing.scaler.transform(x)));
    const rows = Float32Array.from({ length: x.shape[0] }, (_, i) => i);
    return await sweep(subject.layers, model.inputSize, { x, y, rows, targetCols }, s, subject.alive);
  } finally {
    for (const t of owned) t.dispose();
    subject.release();
  }
}

/** @internal fit()'s range test (ScheduleRun.findLr): prepared data, the run's settings. */
export async function findLrForRun(model: Sequential, data: FinderData, options: Partial<FinderSettings>): Promise<LrFinderResult> {
  const s = settings(model, options as Record<string, unknown>, 'lrFinder', [...KEYS, 'locked']);
  const subject = testSubject(model, s);
  try {
    return await sweep(subject.layers, model.inputSize, data, s, subject.alive);
  } finally {
    subject.release();
  }
}

/**
 * What the test trains: a copy of the model's layers, or (when a layer cannot be rebuilt) the model's
 * own layers, held against fit() and with their weights kept aside; release() puts them back.
 */
function testSubject(model: Sequential, s: FinderSettings): { layers: readonly Layer[]; alive: () => void; release: () => void } {
  const copies = copyLayers(model);
  if (copies) return { layers: copies, alive: () => {}, release: () => copies.forEach((l) => l.dispose()) };
  const unhold = s.locked ? () => {} : hold(model, 'lrFinder', (h) => `lrFinder: ${h} is running on this model; await it first.`);
  const be = engine.requireBackend();
  const params = model.layers.flatMap((l) => l.params());
  const kept: Tensor[] = [];
  const release = () => {
    if (kept.length === params.length && !params.some((p) => p.isDisposed)) params.forEach((p, i) => p.size && be.copy(p.size, kept[i].handle('lrFinder'), p.handle('lrFinder')));
    for (const t of kept) t.dispose();
    unhold();
  };
  try {
    for (const p of params) {
      const t = new Tensor(p.shape, engine.newStorage(p.size), false);
      kept.push(t);
      if (p.size) be.copy(p.size, p.handle('lrFinder'), t.handle('lrFinder'));
    }
  } catch (e) {
    release();
    throw e;
  }
  const alive = () => {
    if (model.isDisposed || params.some((p) => p.isDisposed)) throw new Error('lrFinder: the model was disposed during the range test; dispose it after lrFinder() settles.');
  };
  return { layers: model.layers, alive, release };
}

/** Copies of the model's layers holding its weights, or null when a layer cannot be rebuilt from its config. */
function copyLayers(model: Sequential): Layer[] | null {
  if (!model.layers.every((l) => isLoadableLayerType(l.type))) return null;
  const be = engine.requireBackend();
  const out: Layer[] = [];
  try {
    for (const l of model.layers) {
      const c = layerFromConfig(l.config());
      out.push(c);
      const from = l.params(), to = c.params();
      // A registered factory that builds its parameters differently from the original: test in place.
      if (from.length !== to.length || from.some((p, i) => p.size !== to[i].size)) {
        for (const k of out) k.dispose();
        return null;
      }
      from.forEach((p, i) => {
        if (p.size) be.copy(p.size, p.handle('lrFinder'), to[i].handle('lrFinder'));
        to[i].requiresGrad = p.requiresGrad; // a frozen parameter stays frozen
      });
    }
    return out;
  } catch (e) {
    for (const k of out) k.dispose();
    throw e;
  }
}

/** The sweep itself, on `layers` (a copy, or the model's own); `alive` checks after each await. */
async function sweep(layers: readonly Layer[], inFeatures: number, d: FinderData, s: FinderSettings, alive: () => void): Promise<LrFinderResult> {
  const t0 = performance.now();
  const n = d.rows.length;
  if (n === 0) throw new RangeError('lrFinder: there are no rows to train on.');
  // Every batch has the same size (the remainder of a pass is skipped), so one recorded program serves.
  const bs = Math.min(s.batchSize, n);
  const steps = new Steps(layers, { loss: s.loss, delta: s.delta, maxRows: bs, inFeatures, targetCols: d.targetCols });
  const opt = s.optimizer ? optimizerFromJSON(s.optimizer.toJSON()) : adam();
  try {
    steps.setDropoutSeed(s.seed);
    // Batches are drawn as fit() draws them: each pass over the rows is a fresh shuffle of them.
    const r = rng(s.seed);
    let order = r.shuffleInPlace(d.rows.slice());
    const batch = new Float32Array(bs);
    const lrs: number[] = [], losses: number[] = [], smoothed: number[] = [];
    let avg = 0, best = Infinity, at = 0;
    let stopped: LrFinderResult['stopped'] = null;
    let lastYield = performance.now();
    for (let i = 0; i < s.steps; i++) {
      if (s.signal?.aborted) {
        stopped = 'aborted';
        break;
      }
      const lr = s.minLr * (s.maxLr / s.minLr) ** (i / (s.steps - 1));
      if (at + bs > n) {
        order = r.shuffleInPlace(d.rows.slice());
        at = 0;
      }
      batch.set(order.subarray(at, at + bs));
      at += bs;
      steps.gather(d.x, d.y, batch);
      steps.computeGradients(bs);
      const loss = await steps.readLastLoss();
      alive();
      if (!Number.isFinite(loss)) {
        stopped = 'diverged';
        break;
      }
      // fastai's smoothing: a running average, divided by its weight so far so that it starts unbiased.
      avg = s.smoothing * avg + (1 - s.smoothing) * loss;
      const sm = avg / (1 - s.smoothing ** (i + 1));
      lrs.push(lr);
      losses.push(loss);
      smoothed.push(sm);
      best = Math.min(best, sm);
      if (sm > s.divergence * best) {
        stopped = 'diverged';
        break;
      }
      opt.lr = lr;
      opt.step(steps.params, steps.grads());
      // A page (or a worker's message queue) gets a turn now and then.
      if (performance.now() - lastYield >= 16) {
        await yieldNow();
        alive();
        lastYield = performance.now();
      }
    }
    if (lrs.length < MIN_POINTS) {
      if (stopped === 'aborted') throw new Error(`lrFinder: aborted after ${lrs.length} step${lrs.length === 1 ? '' : 's'}, too few for a suggestion (${MIN_POINTS} are needed).`);
      throw new Error(
        `lrFinder: the loss diverged after ${lrs.length} step${lrs.length === 1 ? '' : 's'} (at lr ${fmt(s.minLr * (s.maxLr / s.minLr) ** (lrs.length / (s.steps - 1)))}), ` +
          `too early for a suggestion; lower minLr (now ${s.minLr}), scale the inputs (data.standardize), or check the data for extreme values.`,
      );
    }
    const pick = suggest(lrs, smoothed);
    return { lrs, losses, smoothed, ...pick, stopped, ms: performance.now() - t0 };
  } finally {
    steps.dispose();
    opt.dispose();
  }
}

/**
 * The candidates of a smoothed curve: its minimum, the steepest descent before it (the most negative
 * slope per decade of rate, by central differences, past the first tenth of the points, where the running
 * average has seen only a few batches), and the suggestion (LR_SUGGESTION).
 */
export function suggest(lrs: readonly number[], smoothed: readonly number[]): { suggestion: number; minimum: { lr: number; loss: number }; steepest: number } {
  let m = 0;
  for (let i = 1; i < smoothed.length; i++) if (smoothed[i] < smoothed[m]) m = i;
  let steep = Math.min(m, Math.max(1, Math.floor(smoothed.length / 10))), slope = Infinity;
  for (let i = steep; i < m; i++) {
    const g = (smoothed[i + 1] - smoothed[i - 1]) / Math.log10(lrs[i + 1] / lrs[i - 1]);
    if (g < slope) [slope, steep] = [g, i];
  }
  return { suggestion: lrs[m] / 10, minimum: { lr: lrs[m], loss: smoothed[m] }, steepest: lrs[steep] };
}

const yieldNow = (): Promise<void> =>
  new Promise((resolve) => (typeof (globalThis as any).setImmediate === 'function' ? (globalThis as any).setImmediate(resolve) : setTimeout(resolve, 0)));

const fmt = (v: number): string => String(+v.toPrecision(3));
