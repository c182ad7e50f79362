// The training and evaluation steps of fit() and evaluate(), run as recorded programs (src/core/program.ts).
// A step is written once, with the model's own layers, the loss functions and autograd: the first step of
// each batch size runs through them for real while its backend calls are recorded; every later step of
// that size gathers its batch into the same input buffers and replays the calls. So any Layer trains,
// the math is the ops' math, and a step after the first allocates nothing and creates no tensor.
import { backward } from '../autograd/graph.js';
import { noGrad } from '../autograd/api.js';
import { engine } from '../core/engine.js';
import { record, type Program } from '../core/program.js';
import { getLoss, type LossName } from '../nn/losses.js';
import { ActivationLayer, type ForwardContext, type Layer } from '../nn/layers.js';
import { equal, greater, greaterEqual } from '../ops/elementwise.js';
import { argmax, sum } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import { backend, empty } from '../ops/util.js';
import { tidy } from '../core/scope.js';
import { Tensor } from '../core/tensor.js';
import type { Sequential } from '../nn/model.js';
import { checkValues } from './data.js';
import { GhostSink, type Privacy } from './privacy.js';
import { mul, scale } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';

export interface StepOptions {
  loss: LossName;
  /** Huber's delta. */
  delta: number;
  /** The largest batch (rows) a step runs. */
  maxRows: number;
  inFeatures: number;
  /** Columns of the target per row: 0 for class indices ([n]), else [n, k]. */
  targetCols: number;
  /**
   * Private training (privacy.ts): steps clip per-sample gradients, add noise, and (Poisson sampling)
   * run on padded batches whose padding rows a mask removes. `expected` is the expected batch size.
   */
  privacy?: Privacy & { expected: number; seed: number };
}

interface TrainProgram {
  program: Program<{ loss: Tensor }>;
  /** The gradient of each trainable parameter, written by every run (owned here, not by p.grad). */
  grads: Tensor[];
  /** Dropout mask elements one run draws. */
  span: number;
}

interface EvalProgram {
  program: Program<{ loss: Tensor }>;
}

/**
 * Runs training and evaluation steps of `layers` under a loss over batches gathered from the full data.
 * Running totals (Σ rows·loss and correct predictions) stay on the backend until totals() reads them.
 */
export class Steps {
  /** Layers that run; a softmax (or sigmoid) layer at the end is folded into its cross-entropy loss. */
  readonly active: readonly Layer[];
  /** The trainable parameters, in layer order. */
  readonly params: readonly Tensor[];
  private readonly be = engine.requireBackend();
  private x: Tensor;
  private y: Tensor;
  private idx: Tensor;
  /** Private steps: 1 for the batch's rows, 0 for padding rows. */
  private mask: Tensor | null = null;
  /** Rows the batch buffers hold. */
  private capacity: number;
  /** Private steps: rows of the last batch that were sampled (the rest padding). */
  private lastRows = 0;
  /** Whether the last loss came from a Poisson-sampled private step (its value is Σ loss / D). */
  private lastPoisson = false;
  private padded: Float32Array | null = null;
  private readonly acc: Tensor;
  private readonly hits: Tensor;
  private readonly train = new Map<number, TrainProgram>();
  private readonly evals = new Map<number, EvalProgram>();
  private last: Tensor | null = null;
  private current: TrainProgram | null = null;
  private seed = 0;
  private offset = 0;
  private readonly owned: Tensor[] = [];
  /** Gradients the parameters held before, put back by dispose(). */
  private readonly stashed: (Tensor | null)[];

  constructor(layers: readonly Layer[], private readonly o: StepOptions) {
    const last = layers[layers.length - 1];
    const folded =
      last instanceof ActivationLayer &&
      ((o.loss === 'softmaxCrossEntropy' && (last.activation === 'softmax' || last.activation === 'logSoftmax')) ||
        (o.loss === 'binaryCrossEntropy' && last.activation === 'sigmoid'));
    this.active = folded ? layers.slice(0, -1) : layers.slice();
    this.params = this.active.flatMap((l) => l.params()).filter((p) => p.requiresGrad);
    this.capacity = o.maxRows;
    [this.x, this.y, this.idx] = this.buffers(o.maxRows);
    this.acc = this.own([1]);
    this.hits = this.own([1]);
    this.stashed = this.params.map((p) => {
      const g = p.grad;
      p.grad = null;
      return g;
    });
    this.resetTotals();
  }

  /** The batch buffers for R rows (and the mask, for private steps, all ones until a padded batch). */
  private buffers(R: number): [Tensor, Tensor, Tensor] {
    if (this.o.privacy) {
      this.mask = this.own([R]);
      this.be.fill(R, this.mask.handle('fit'), 1);
    }
    return [this.own([R, this.o.inFeatures]), this.own(this.o.targetCols === 0 ? [R] : [R, this.o.targetCols]), this.own([R])];
  }

  /**
   * Room for batches of R rows: a Poisson batch far above its expected size (rare) gets new buffers, and
   * the programs recorded on the old ones are dropped and recorded again.
   */
  private ensureRows(R: number): void {
    if (R <= this.capacity) return;
    const old = [this.x, this.y, this.idx, ...(this.mask ? [this.mask] : [])];
    for (const p of this.train.values()) {
      p.program.dispose();
      for (const g of p.grads) g.dispose();
    }
    for (const p of this.evals.values()) p.program.dispose();
    this.train.clear();
    this.evals.clear();
    this.current = null;
    this.last = null;
    for (const t of old) {
      t.dispose();
      this.owned.splice(this.owned.indexOf(t), 1);
    }
    this.capacity = R;
    [this.x, this.y, this.idx] = this.buffers(R);
  }

  private own(shape: number[]): Tensor {
    const t = new Tensor(shape, engine.newStorage(shape.reduce((a, b) => a * b, 1)), false);
    this.owned.push(t);
    return t;
  }

  setDropoutSeed(seed: number): void {
    this.seed = seed >>> 0;
    this.offset = 0;
  }

  /** The gradients the last training step wrote, in the order of `params`. */
  grads(): Tensor[] {
    if (!this.current) throw new Error('simdnn internal error: grads() before a training step.');
    return this.current.grads;
  }

  /** Gathers rows of the full data set into the batch buffers. */
  gather(x: Tensor, y: Tensor, rows: Float32Array): void {
    const be = this.be;
    be.write(this.idx.handle('fit'), rows);
    be.gatherRows(rows.length, this.o.inFeatures, x.handle('fit'), this.idx.handle('fit'), this.x.handle('fit'));
    be.gatherRows(rows.length, Math.max(1, this.o.targetCols), y.handle('fit'), this.idx.handle('fit'), this.y.handle('fit'));
  }

  /**
   * Private steps with Poisson sampling: gathers the sampled rows into a batch of R ≥ rows.length rows,
   * the rest padding (row 0 again, masked out of the loss and so of every gradient).
   */
  gatherPadded(x: Tensor, y: Tensor, rows: Float32Array, R: number): void {
    this.ensureRows(R);
    const be = this.be;
    if (!this.padded || this.padded.length < R) this.padded = new Float32Array(this.capacity);
    const idx = this.padded.subarray(0, R);
    idx.set(rows);
    idx.fill(0, rows.length);
    be.write(this.idx.handle('fit'), idx);
    const m = new Float32Array(R);
    m.fill(1, 0, rows.length);
    be.write(this.mask!.handle('fit'), m);
    be.gatherRows(R, this.o.inFeatures, x.handle('fit'), this.idx.handle('fit'), this.x.handle('fit'));
    be.gatherRows(R, Math.max(1, this.o.targetCols), y.handle('fit'), this.idx.handle('fit'), this.y.handle('fit'));
    this.lastRows = rows.length;
  }

  /** The first `rows` rows of a batch buffer, as a tensor on its storage. */
  private batch(t: Tensor, rows: number): Tensor {
    return new Tensor(t.rank === 1 ? [rows] : [rows, t.shape[1]], t.storage!);
  }

  /** Forward pass, loss, and the loss and hits added to the totals; returns the loss tensor. */
  private forwardLoss(rows: number, ctx: ForwardContext): { loss: Tensor; pred: Tensor } {
    let h = this.batch(this.x, rows);
    for (const layer of this.active) h = layer.forward(h, ctx);
    const target = this.batch(this.y, rows);
    const loss = getLoss(this.o.loss, 'fit')(h, target, { delta: this.o.delta });
    return { loss, pred: h };
  }

  /**
   * Adds rows·loss to the totals and, for classification losses, the batch's correct predictions
   * (argmax of the logits against the labels; for binary cross-entropy, logit > 0 against target ≥ ½,
   * averaged over the outputs). Everything stays on the backend: no readback per batch.
   */
  private tally(rows: number, loss: Tensor, pred: Tensor): void {
    const be = backend();
    be.axpy(1, rows, loss.handle('fit'), this.acc.handle('fit'));
    noGrad(() => {
      const target = this.batch(this.y, rows);
      if (this.o.loss === 'softmaxCrossEntropy') {
        const labels = this.o.targetCols === 0 ? target : argmax(target, 1);
        const hit = sum(equal(argmax(pred, 1), labels));
        be.axpy(1, 1, hit.handle('fit'), this.hits.handle('fit'));
      } else if (this.o.loss === 'binaryCrossEntropy') {
        const k = pred.shape[1] ?? 1;
        const t = target.rank === pred.rank ? target : reshape(target, pred.shape);
        const hit = sum(equal(greater(pred, 0), greaterEqual(t, 0.5)));
        be.axpy(1, 1 / k, hit.handle('fit'), this.hits.handle('fit'));
      }
    });
  }

  /** One training step's math (without the optimizer) on the batch in the buffers; loss and hits join the totals. */
  computeGradients(rows: number): void {
    if (this.o.privacy?.sampling === 'shuffle') this.lastRows = rows;
    let p = this.train.get(rows);
    if (p && !p.program.valid) throw new Error('fit: the backend was replaced (init() was called) during fit.');
    if (p) {
      p.program.run(this.offset);
      this.offset = (this.offset + p.span) >>> 0;
    } else p = this.o.privacy ? this.recordPrivate(rows) : this.recordTrain(rows);
    this.current = p;
    this.last = p.program.result.loss;
    this.lastPoisson = this.o.privacy?.sampling === 'poisson';
  }

  private recordTrain(rows: number): TrainProgram {
    for (const q of this.params) q.grad = null;
    const ctx: ForwardContext = { training: true, seed: this.seed, offset: this.offset };
    const program = record(
      () =>
        tidy(() => {
          const { loss, pred } = this.forwardLoss(rows, ctx);
          backward(loss);
          this.tally(rows, loss, pred);
          return { loss };
        }),
      { randomOffset: this.offset },
    );
    // The gradients now belong to the program: take them from the parameters, so nothing the user does
    // with p.grad (zeroGrad in a callback) can free what replays write into.
    const grads = this.params.map((q) => {
      let g = q.grad;
      q.grad = null;
      if (!g) {
        // A parameter the loss does not depend on: its gradient is zero, every step.
        g = empty(q.shape);
        this.be.fill(g.size, g.handle('fit'), 0);
        this.owned.push(g);
      } else this.owned.push(g);
      return g;
    });
    const span = (ctx.offset - this.offset) >>> 0;
    this.offset = ctx.offset >>> 0;
    const tp: TrainProgram = { program, grads, span };
    this.owned.push(program.result.loss);
    this.train.set(rows, tp);
    return tp;
  }

  /**
   * A private step (privacy.ts): the forward pass, the per-sample losses, their masked sum over D (the
   * expected batch size with Poisson sampling, the batch's rows with shuffled batches), a backward pass in
   * which the dense layers hand their parts to the per-sample sink, then the clipped, noised gradients.
   * With shuffled batches, σ = 0 and C = ∞ this is the ordinary step, bit for bit.
   */
  private recordPrivate(rows: number): TrainProgram {
    const p = this.o.privacy!;
    const D = p.sampling === 'poisson' ? p.expected : rows;
    for (const q of this.params) q.grad = null;
    const ctx: ForwardContext = { training: true, seed: this.seed, offset: this.offset };
    let sink: GhostSink | null = null;
    let program;
    try {
      program = record(
      () =>
        tidy(() => {
          let h = this.batch(this.x, rows);
          for (const layer of this.active) h = layer.forward(h, ctx);
          const target = this.batch(this.y, rows);
          const perRow = perSampleLoss(this.o.loss, h, target, this.o.delta);
          const m = this.batch(this.mask!, rows);
          const objective = scale(sum(mul(perRow, m)), 1 / D);
          sink = new GhostSink(this.params);
          engine.perSample = sink;
          try {
            backward(objective);
          } finally {
            engine.perSample = null;
          }
          const stray = this.params.findIndex((q) => q.grad !== null);
          if (stray >= 0)
            throw new Error(
              `fit: privacy clips per-sample gradients of dense layers (layers.linear, or the dense op); parameter ${stray} [${this.params[stray].shape.join(', ')}] ` +
                'gets its gradient from another op, which the clipper cannot handle. Freeze it (requiresGrad = false) or train without privacy.',
            );
          const grads = sink.finish(p, D, p.seed, ctx, rows);
          let loss: Tensor;
          if (p.sampling === 'poisson') {
            // Σ of the batch's per-sample losses (D·objective) into the totals; fit divides by the rows sampled.
            backend().axpy(1, D, objective.handle('fit'), this.acc.handle('fit'));
            loss = objective;
            this.tallyHits(rows, h, m);
          } else {
            loss = mean(perRow);
            this.tally(rows, loss, h);
          }
          return { loss, grads };
        }),
      { randomOffset: this.offset },
      );
    } catch (e) {
      // Gradients an op wrote to a parameter directly (the clipper's refusal) are not the caller's to keep.
      for (const q of this.params) {
        q.grad?.dispose();
        q.grad = null;
      }
      throw e;
    } finally {
      (sink as GhostSink | null)?.dispose();
    }
    for (const g of program.result.grads) this.owned.push(g);
    const span = (ctx.offset - this.offset) >>> 0;
    this.offset = ctx.offset >>> 0;
    const tp: TrainProgram = { program: program as unknown as Program<{ loss: Tensor }>, grads: program.result.grads, span };
    this.owned.push(program.result.loss);
    this.train.set(rows, tp);
    return tp;
  }

  /** Correct predictions of the batch's masked-in rows into the totals (private steps with padding). */
  private tallyHits(rows: number, pred: Tensor, m: Tensor): void {
    const be = backend();
    noGrad(() => {
      const target = this.batch(this.y, rows);
      if (this.o.loss === 'softmaxCrossEntropy') {
        const labels = this.o.targetCols === 0 ? target : argmax(target, 1);
        be.axpy(1, 1, sum(mul(equal(argmax(pred, 1), labels), m)).handle('fit'), this.hits.handle('fit'));
      } else if (this.o.loss === 'binaryCrossEntropy') {
        const k = pred.shape[1] ?? 1;
        const t = target.rank === pred.rank ? target : reshape(target, pred.shape);
        const hit = sum(mul(equal(greater(pred, 0), greaterEqual(t, 0.5)), reshape(m, [rows, 1])));
        be.axpy(1, 1 / k, hit.handle('fit'), this.hits.handle('fit'));
      }
    });
  }

  /** The loss and hits of the batch in the buffers, without training (dropout off), into the totals. */
  evaluate(rows: number): void {
    let p = this.evals.get(rows);
    if (p && !p.program.valid) throw new Error('fit: the backend was replaced (init() was called) during fit.');
    if (p) p.program.run(0);
    else {
      const ctx: ForwardContext = { training: false, seed: this.seed, offset: 0 };
      const program = record(() =>
        noGrad(() =>
          tidy(() => {
            const { loss, pred } = this.forwardLoss(rows, ctx);
            this.tally(rows, loss, pred);
            return { loss };
          }),
        ),
      );
      this.owned.push(program.result.loss);
      this.evals.set(rows, (p = { program }));
    }
    this.last = p.program.result.loss;
    this.lastPoisson = false;
  }

  /** The last batch's mean loss (over its sampled rows), read synchronously (backends that can). */
  lastLoss(): number {
    const v = this.be.readSync(this.last!.handle('fit'), 1)[0];
    const p = this.o.privacy;
    // A Poisson step's loss tensor is Σ loss / D: per sampled row it is that times D / rows.
    return p && this.lastPoisson ? (v * p.expected) / Math.max(1, this.lastRows) : v;
  }

  /** The last batch's mean loss, on any backend (a read per call: for the range test, not for fit's loop). */
  async readLastLoss(): Promise<number> {
    if (this.be.canReadSync) return this.lastLoss();
    return (await this.be.read(this.last!.handle('fit'), 1))[0];
  }

  resetTotals(): void {
    this.be.fill(1, this.acc.handle('fit'), 0);
    this.be.fill(1, this.hits.handle('fit'), 0);
  }

  /** Σ rows·loss and the number of correct predictions since resetTotals(). */
  async totals(): Promise<{ loss: number; hits: number }> {
    const sync = this.be.canReadSync;
    const a = sync ? this.be.readSync(this.acc.handle('fit'), 1) : await this.be.read(this.acc.handle('fit'), 1);
    const h = sync ? this.be.readSync(this.hits.handle('fit'), 1) : await this.be.read(this.hits.handle('fit'), 1);
    return { loss: a[0], hits: h[0] };
  }

  /** Recorded backend calls and memory, for tests and profiles. */
  stats(): { programs: number; calls: number; bytes: number } {
    const all = [...this.train.values(), ...this.evals.values()].map((p) => p.program);
    return { programs: all.length, calls: all.reduce((s, p) => s + p.length, 0), bytes: all.reduce((s, p) => s + p.bytes, 0) };
  }

  dispose(): void {
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
    for (const p of this.train.values()) p.program.dispose();
    for (const p of this.evals.values()) p.program.dispose();
    this.train.clear();
    this.evals.clear();
    this.params.forEach((p, i) => {
      if (p.isDisposed) this.stashed[i]?.dispose();
      else if (!p.grad) p.grad = this.stashed[i];
    });
  }
}

/** @internal One recorded training step's loss and gradients on a batch (the tests compare them with autograd). */
export function stepGradients(model: Sequential, x: Tensor, y: Tensor, loss: LossName, delta = 1): { loss: number; grads: Float32Array[] } {
  const targetCols = checkValues(model, x, y, loss, '', x.dataSync(), y.dataSync());
  const steps = new Steps(model.layers, { loss, delta, maxRows: x.shape[0], inFeatures: model.inputSize, targetCols });
  try {
    steps.setDropoutSeed(model.seed);
    steps.gather(x, y, Float32Array.from({ length: x.shape[0] }, (_, i) => i));
    steps.computeGradients(x.shape[0]);
    return { loss: steps.lastLoss(), grads: steps.grads().map((g) => g.dataSync()) };
  } finally {
    steps.dispose();
  }
}

/**
 * Each row's loss [rows]: the loss with reduction 'none', averaged over a row's outputs (so that Σ over
 * rows / rows is the ordinary mean loss).
 */
function perSampleLoss(loss: LossName, pred: Tensor, target: Tensor, delta: number): Tensor {
  const l = getLoss(loss, 'fit')(pred, target, { delta, reduction: 'none' });
  return l.rank === 2 ? (l.shape[1] === 1 ? reshape(l, [l.shape[0]]) : mean(l, 1)) : l;
}

/**
 * @internal One private step's gradients on a batch, before the optimizer (the tests compare them with
 * per-sample gradients clipped one by one): shuffled-batch semantics, so the normaliser is the batch's rows.
 */
export function privateStepGradients(model: Sequential, x: Tensor, y: Tensor, loss: LossName, privacy: Privacy, seed = 0): Float32Array[] {
  const targetCols = checkValues(model, x, y, loss, '', x.dataSync(), y.dataSync());
  const rows = x.shape[0];
  const steps = new Steps(model.layers, { loss, delta: 1, maxRows: rows, inFeatures: model.inputSize, targetCols, privacy: { ...privacy, sampling: 'shuffle', expected: rows, seed } });
  try {
    steps.setDropoutSeed(model.seed);
    steps.gather(x, y, Float32Array.from({ length: rows }, (_, i) => i));
    steps.computeGradients(rows);
    return steps.grads().map((g) => g.dataSync());
  } finally {
    steps.dispose();
  }
}
