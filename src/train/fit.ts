// fit(): the training loop. In order: the options (options.ts), the data (data.ts), the loop over epochs
// and batches, run as recorded steps of the ops (step.ts), and the callbacks, early stopping
// (early.ts), schedules and the divergence guard (guard.ts) around it.
import { rng } from '../core/random.js';
import { engine } from '../core/engine.js';
import type { Sequential } from '../nn/model.js';
import type { TensorInput } from '../ops/creation.js';
import type { Tensor } from '../core/tensor.js';
import type { LrFindSettings } from '../optim/schedules.js';
import { fitData, type FitData } from './data.js';
import { EarlyStopper } from './early.js';
import { constantLoss, DivergenceGuard } from './guard.js';
import { CLASS_LOSSES, fitSettings, type EpochLogs, type FitOptions, type FitSettings, type History } from './options.js';
import { Steps } from './step.js';
import { hold } from './lock.js';
import { findLrForRun } from './lr-finder.js';
import { bucket, checkPrivacy, noiseSeed, poissonRows, spent, type Privacy } from './privacy.js';

export type { BatchLogs, Callbacks, EarlyStopping, EpochLogs, FitOptions, History } from './options.js';
export { BLOW_UP } from './guard.js';
export { holdOut } from './data.js';

/**
 * Trains the model on x [n, inputs] and y, batch by batch. Resolves with the history; rejects with a
 * clear Error on bad options or data, or when the loss diverges (NaN, infinite, or a blow-up, see
 * BLOW_UP), in which case the model is put back to its weights at the end of the last epoch before the
 * divergence (or to those it had before fit()).
 *
 * Each batch size's first step runs through the layers' forward passes, the loss and autograd while
 * its backend calls are recorded; the later steps replay them (src/core/program.ts). So any Layer
 * trains, and a step after the first allocates nothing. The parameters' .grad is left as it was.
 *
 * One fit() at a time per model: a second one while the first runs is refused (their steps would
 * interleave on the same weights). predict() and evaluate() may run meanwhile (from a callback or
 * another task): JavaScript runs them between two batches, so they see the weights after the last
 * completed step and leave training as it would have been. Disposing the model during fit() stops it
 * with an error saying so.
 */
export async function fit(model: Sequential, xIn: TensorInput, yIn: TensorInput, options: FitOptions): Promise<History> {
  model.check('fit');
  const release = hold(model, 'fit', (h) =>
    h === 'fit' ? 'fit: fit is already running on this model; await the first fit() or train a copy (load(save(model))).' : `fit: ${h} is running on this model; await it first.`,
  );
  try {
    const settings = fitSettings(model, options);
    try {
      return await new Run(model, settings).go(xIn, yIn);
    } finally {
      if (settings.ownOptimizer) settings.optimizer.dispose();
    }
  } finally {
    release();
  }
}

type Phase = 'start' | 'epoch' | 'batch' | 'test' | 'end' | 'done';

/** One fit(): its state, and the loop in steps. */
class Run {
  private readonly owned: Tensor[] = [];
  private steps: Steps | null = null;
  private guard: DivergenceGuard | null = null;
  private readonly history: History = { loss: [], valLoss: [], accuracy: [], valAccuracy: [], lr: [], epsilon: [], epochs: [], steps: 0, stoppedEarly: false, bestEpoch: 0, ms: 0 };
  /** Where training is, for the message when the model is disposed under it (numbers: a string per batch would cost). */
  private readonly at = { epoch: 0, batch: 0, phase: 'start' as Phase };
  private readonly classify: boolean;
  private readonly syncReads = engine.requireBackend().canReadSync;
  private privacy: Privacy | null = null;

  constructor(
    private readonly model: Sequential,
    private readonly s: FitSettings,
  ) {
    this.classify = CLASS_LOSSES.includes(s.loss);
  }

  async go(xIn: TensorInput, yIn: TensorInput): Promise<History> {
    try {
      const d = await fitData(this.model, xIn, yIn, this.s, this.owned, this.settle);
      return await this.loop(d);
    } finally {
      this.steps?.dispose();
      this.guard?.dispose();
      for (const t of this.owned) t.dispose();
    }
  }

  // Between two awaits nothing else runs; across one, a callback or another task may have disposed the
  // model, after which its weights' memory may belong to something else: every await checks.
  private readonly settle = async <T>(v: T | Promise<T>): Promise<T> => {
    const r = await v;
    this.alive();
    return r;
  };

  private alive(): void {
    const m = this.model;
    if (m.isDisposed || m.layers.some((l) => l.params().some((p) => p.isDisposed)))
      throw new Error(`fit: the model was disposed during fit (${this.where()}); fit stopped. Dispose it after fit() settles; to end training early, set model.stopTraining = true or abort the signal.`);
  }

  private where(): string {
    const { epoch, batch, phase } = this.at;
    const e = `epoch ${epoch + 1}`;
    return { start: 'before the first batch', epoch: `${e}, before its first batch`, batch: `${e}, after batch ${batch + 1}`, test: `${e}, batch ${batch + 1}, testing for a blow-up`, end: `${e}, at its end`, done: 'in onTrainEnd' }[phase];
  }

  private async loop(d: FitData): Promise<History> {
    const { model, s, history, at } = this;
    const { optimizer, callbacks: cb, schedule, batchSize, epochs } = s;
    const n = d.trainRows.length;
    const stepOptions = { loss: s.loss, delta: s.delta, inFeatures: model.inputSize, targetCols: d.targetCols };
    // Private training: checked against the training rows before anything is trained.
    const privacy = s.privacy === undefined ? null : checkPrivacy(s.privacy, n, batchSize, epochs);
    this.privacy = privacy;
    const poisson = privacy?.sampling === 'poisson';
    // Poisson batches vary around batchSize: buffers for 6 standard deviations above it (a larger batch,
    // rarer than 1e-9, grows them), each rounded up to a bucket size (privacy.ts, bucket).
    const maxRows = poisson ? Math.min(bucket(n), bucket(batchSize + Math.ceil(6 * Math.sqrt(batchSize)))) : Math.min(batchSize, n);
    const steps = (this.steps = new Steps(model.layers, {
      ...stepOptions,
      maxRows: Math.max(maxRows, Math.min(batchSize, d.valRows?.length ?? 0)),
      ...(privacy ? { privacy: { ...privacy, expected: batchSize, seed: noiseSeed(s.seed) } } : {}),
    }));
    steps.setDropoutSeed(s.seed);
    const params = steps.params;
    // The blow-up test's probe measures weights over the training rows with steps of its own (the
    // training steps' totals hold the epoch so far).
    const probe = async () => {
      const p = new Steps(model.layers, { ...stepOptions, maxRows: Math.min(batchSize, n) });
      try {
        return (await this.evaluateRows(p, d.x, d.y, d.trainRows)).loss;
      } finally {
        p.dispose();
      }
    };
    const guard = (this.guard = new DivergenceGuard(params, constantLoss(s.loss, d.ys, d.targetCols, model.outputSize, s.delta), n, probe, s.ownOptimizer));
    const early = s.early ? new EarlyStopper(s.early, params) : null;
    // A schedule scales the optimizer's configured rate (not whatever rate an earlier fit() left).
    const baseLr = schedule ? optimizer.options.lr : optimizer.lr;
    const stepsPerEpoch = Math.ceil(n / batchSize);
    // A schedule may run a range test first (oneCycle's maxLr 'find'): on a copy of the model, over the
    // training rows only, with this run's loss, optimizer kind and batch size.
    const findLr = (o?: LrFindSettings) =>
      this.settle(findLrForRun(model, { x: d.x, y: d.y, rows: d.trainRows, targetCols: d.targetCols }, { ...o, loss: s.loss, delta: s.delta, optimizer, batchSize, seed: s.seed, signal: s.signal, locked: true }));
    await this.settle(schedule?.begin({ epochs, stepsPerEpoch, baseLr, findLr }));
    const shuffler = rng(s.seed);
    const batchRows = new Float32Array(Math.min(batchSize, n)); // a batchSize above the row count is one batch
    const sampled = { rows: new Float32Array(maxRows) };
    const t0 = performance.now();
    let lastYield = t0;
    model.stopTraining = false;
    await this.settle(cb.onTrainBegin?.());

    outer: for (let epoch = 0; epoch < epochs; epoch++) {
      const te = performance.now();
      at.epoch = epoch;
      at.phase = 'epoch';
      await this.settle(cb.onEpochBegin?.(epoch));
      const order = s.shuffle && !poisson ? shuffler.shuffleInPlace(d.trainRows.slice()) : d.trainRows;
      let seen = 0, lr = optimizer.lr, epochSum = 0;
      steps.resetTotals();
      for (let start = 0, batch = 0; start < n; start += batchSize, batch++) {
        let rows = Math.min(batchSize, n - start);
        lr = schedule ? schedule.lr(baseLr, { epoch, step: history.steps }) : optimizer.lr;
        optimizer.lr = lr;
        if (poisson) {
          // Each training row joins this step's batch with probability batchSize / n.
          rows = poissonRows(shuffler, n, batchSize / n, sampled);
          const picked = sampled.rows.subarray(0, rows);
          for (let i = 0; i < rows; i++) picked[i] = d.trainRows[picked[i]];
          steps.gatherPadded(d.x, d.y, picked, bucket(rows));
          steps.computeGradients(bucket(rows));
        } else {
          const idx = batchRows.subarray(0, rows);
          idx.set(order.subarray(start, start + rows));
          steps.gather(d.x, d.y, idx);
          steps.computeGradients(rows);
        }
        // Backends that read synchronously check every batch; the others once per epoch (recordEpoch).
        const batchLoss = this.syncReads ? steps.lastLoss() : NaN;
        if (this.syncReads) {
          epochSum += batchLoss * rows;
          at.batch = batch;
          at.phase = 'test';
          const err = await guard.afterBatch(batchLoss, epochSum, seen + rows, epoch === epochs - 1, `epoch ${epoch + 1}, batch ${batch + 1} (step ${history.steps + 1})`, lr, history.loss[epoch - 1]);
          if (err) throw err;
        }
        optimizer.step(params, steps.grads());
        history.steps++;
        seen += rows;
        at.batch = batch;
        at.phase = 'batch';
        if (cb.onBatchEnd && (await this.settle(cb.onBatchEnd(batch, { epoch, batch, step: history.steps, loss: batchLoss, lr, size: rows }))) === false) model.stopTraining = true;
        if (model.stopTraining || s.signal?.aborted) {
          if (seen > 0) await this.recordEpoch(d, epoch, seen, lr, te);
          break outer;
        }
        if (performance.now() - lastYield >= s.yieldEvery) {
          await this.settle(yieldNow());
          lastYield = performance.now();
        }
      }
      const logs = await this.recordEpoch(d, epoch, seen, lr, te);
      guard.remember(epoch);
      if (s.verbose) console.log(formatEpoch(logs, epochs));
      schedule?.endEpoch(logs);
      at.phase = 'end';
      if (early) {
        await this.settle(early.observe(logs));
        history.bestEpoch = early.bestEpoch;
        history.stoppedEarly = early.stopped;
      } else history.bestEpoch = epoch;
      // Callbacks see every epoch that ran, including the one that triggers early stopping.
      if (cb.onEpochEnd && (await this.settle(cb.onEpochEnd(epoch, logs))) === false) break;
      if (history.stoppedEarly || s.signal?.aborted) break;
      await this.settle(yieldNow());
      lastYield = performance.now();
    }

    const err = history.epochs.length ? guard.atEnd(history.loss.at(-1)!, history.epochs.length, history.lr.at(-1)!) : null;
    if (err) throw err;
    // The best epoch's weights, unless the last epoch was the best.
    const best = early?.weightsToRestore(history.epochs.length - 1);
    if (best) best.forEach((w, i) => engine.requireBackend().write(params[i].handle('fit'), w));
    history.ms = performance.now() - t0;
    at.phase = 'done';
    await this.settle(cb.onTrainEnd?.(history));
    return history;
  }

  /** The epoch's figures into the history: its totals (one read), the divergence checks, validation. */
  private async recordEpoch(d: FitData, epoch: number, seen: number, lr: number, te: number): Promise<EpochLogs> {
    const { history, at } = this;
    at.epoch = epoch;
    at.phase = 'end';
    const t = await this.settle(this.steps!.totals());
    const lossMean = t.loss / seen, acc = t.hits / seen;
    const err = await this.guard!.afterEpoch(t.loss, lossMean, epoch, lr, history.loss[epoch - 1]);
    if (err) throw err;
    const logs: EpochLogs = { epoch, loss: lossMean, lr, ms: 0 };
    history.loss.push(lossMean);
    history.lr.push(lr);
    if (this.privacy) {
      logs.epsilon = spent(this.privacy, history.steps);
      history.epsilon.push(logs.epsilon);
    }
    if (this.classify) {
      logs.accuracy = acc;
      history.accuracy.push(acc);
    }
    if (d.valRows) {
      const v = await this.evaluateRows(this.steps!, d.vx, d.vy, d.valRows);
      logs.valLoss = v.loss;
      history.valLoss.push(v.loss);
      if (this.classify) {
        logs.valAccuracy = v.accuracy;
        history.valAccuracy.push(v.accuracy);
      }
    }
    logs.ms = performance.now() - te;
    history.epochs.push(logs);
    return logs;
  }

  /** Mean loss and accuracy of the current weights over `rows` of X, Y, with the given steps. */
  private async evaluateRows(p: Steps, X: Tensor, Y: Tensor, rows: Float32Array): Promise<{ loss: number; accuracy: number }> {
    const bs = this.s.batchSize;
    p.resetTotals();
    for (let i = 0; i < rows.length; i += bs) {
      const chunk = rows.subarray(i, Math.min(rows.length, i + bs));
      p.gather(X, Y, chunk);
      p.evaluate(chunk.length);
    }
    const t = await this.settle(p.totals());
    return { loss: t.loss / rows.length, accuracy: t.hits / rows.length };
  }
}

const yieldNow = (): Promise<void> =>
  new Promise((resolve) => (typeof (globalThis as any).setImmediate === 'function' ? (globalThis as any).setImmediate(resolve) : setTimeout(resolve, 0)));

function formatEpoch(l: EpochLogs, epochs: number): string {
  const w = String(epochs).length;
  let s = `epoch ${String(l.epoch + 1).padStart(w)}/${epochs}  loss ${l.loss.toFixed(4)}`;
  if (l.accuracy !== undefined) s += `  acc ${l.accuracy.toFixed(4)}`;
  if (l.valLoss !== undefined) s += `  val_loss ${l.valLoss.toFixed(4)}`;
  if (l.valAccuracy !== undefined) s += `  val_acc ${l.valAccuracy.toFixed(4)}`;
  if (l.epsilon !== undefined) s += `  ε ${l.epsilon.toFixed(2)}`;
  return `${s}  lr ${l.lr.toPrecision(3)}  ${l.ms.toFixed(0)} ms`;
}
