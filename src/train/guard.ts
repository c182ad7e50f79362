// Divergence: a loss that becomes NaN or infinite, or that blows up while staying finite. On either,
// fit() puts the weights back to those at the end of the last good epoch (or before training) and
// rejects with a message naming the step and the fixes.
import type { Backend } from '../core/backend.js';
import { engine } from '../core/engine.js';
import type { LossName } from '../nn/losses.js';
import { Tensor } from '../core/tensor.js';

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

/**
 * The mean loss of a constant prediction (uniform for softmax cross-entropy, logit 0 for binary
 * cross-entropy, each target column's mean for regression): the scale the blow-up test measures against.
 */
export function constantLoss(loss: LossName, ys: Float32Array, cols: number, outputs: number, delta: number): number {
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

/**
 * Watches one fit() for divergence and keeps the weights to go back to. `probe` measures the loss over
 * the training rows of the weights in the parameters right now (it runs a pass of its own: the
 * training totals hold the epoch so far).
 */
export class DivergenceGuard {
  private readonly good: Tensor[] = [];
  private goodEpoch = -1;
  /** The loss of the good weights over the training rows, once measured. */
  private goodLoss: number | null = null;
  /** Whether the last recorded epoch's mean was over the limit (one epoch over is not yet a blow-up). */
  private lastOver = false;
  private readonly be: Backend;

  constructor(
    private readonly params: readonly Tensor[],
    /** The constant prediction's loss. */
    private readonly base: number,
    /** Training rows per epoch. */
    private readonly rows: number,
    private readonly probe: () => Promise<number>,
    private readonly ownOptimizer: boolean,
  ) {
    this.be = engine.requireBackend();
    for (const p of params) this.good.push(new Tensor(p.shape, engine.newStorage(p.size), false));
    this.copy(params, this.good);
  }

  private copy(from: readonly Tensor[], to: readonly Tensor[]): void {
    from.forEach((t, i) => t.size && this.be.copy(t.size, t.handle('fit'), to[i].handle('fit')));
  }

  /** The limit on an epoch's Σ rows·loss. */
  private limit(): number {
    return BLOW_UP * Math.max(this.base, this.goodLoss ?? 0) * this.rows;
  }

  /** The cheap test on an epoch's running Σ rows·loss; over() settles it. */
  private tripped(sum: number): boolean {
    return sum > this.limit() && (this.goodLoss === null || this.limit() > 0);
  }

  private async over(sum: number): Promise<boolean> {
    if (this.goodLoss === null) this.goodLoss = await this.lossOfGood();
    return this.limit() > 0 && sum > this.limit();
  }

  /** Swaps the good weights in, measures them, and puts the current weights back. */
  private async lossOfGood(): Promise<number> {
    const keep: Tensor[] = [];
    try {
      for (const p of this.params) keep.push(new Tensor(p.shape, engine.newStorage(p.size), false));
      this.copy(this.params, keep);
      this.copy(this.good, this.params);
      return await this.probe();
    } finally {
      if (keep.length === this.params.length && !this.params.some((p) => p.isDisposed)) this.copy(keep, this.params);
      for (const t of keep) t.dispose();
    }
  }

  /**
   * After a batch on a backend that reads synchronously: a non-finite loss is divergence at once; a
   * running sum past the limit where an epoch over it would end training (after an epoch over it, or in
   * the last epoch) is tested. Returns the Error to throw, or null. Awaits only when the cheap test trips.
   */
  async afterBatch(loss: number, epochSum: number, seen: number, lastEpoch: boolean, where: string, lr: number, previousEpochLoss: number | undefined): Promise<Error | null> {
    if (!Number.isFinite(loss)) return this.diverge(diverged(loss, where, lr));
    if ((this.lastOver || lastEpoch) && this.tripped(epochSum) && (await this.over(epochSum)))
      return this.diverge(blewUp(epochSum / seen, where, lr, this.base, this.goodLoss!, this.lastOver ? previousEpochLoss ?? null : null));
    return null;
  }

  /**
   * At an epoch's end, with its Σ rows·loss and mean: the Error to throw (non-finite, or a second epoch
   * in a row over the limit), or null.
   */
  async afterEpoch(sum: number, mean: number, epoch: number, lr: number, previousEpochLoss: number | undefined): Promise<Error | null> {
    if (!Number.isFinite(mean)) return this.diverge(diverged(mean, `epoch ${epoch + 1}`, lr));
    const over = this.tripped(sum) && (await this.over(sum));
    if (over && this.lastOver) return this.diverge(blewUp(mean, `epoch ${epoch + 1}`, lr, this.base, this.goodLoss!, previousEpochLoss ?? null));
    this.lastOver = over;
    return null;
  }

  /** After an epoch that passed: its weights are the ones to go back to. */
  remember(epoch: number): void {
    if (this.lastOver) return;
    this.copy(this.params, this.good);
    this.goodEpoch = epoch;
  }

  /** When fit ends: an epoch over the limit at the end is a blow-up too. */
  atEnd(lastLoss: number, epochs: number, lr: number): Error | null {
    return this.lastOver ? this.diverge(blewUp(lastLoss, `epoch ${epochs}, the last`, lr, this.base, this.goodLoss!, null)) : null;
  }

  /** Puts the good weights back and says so. */
  private diverge(why: string): Error {
    this.copy(this.good, this.params);
    return new Error(
      `${why} The model is back to ${this.goodEpoch < 0 ? 'the weights it had before this fit()' : `its weights at the end of epoch ${this.goodEpoch + 1}, the last epoch before the divergence`}.` +
        (this.ownOptimizer ? '' : ' The optimizer holds the diverged steps in its state: train again with a new one.'),
    );
  }

  dispose(): void {
    for (const t of this.good) t.dispose();
    this.good.length = 0;
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
