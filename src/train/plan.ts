import type { Backend, Strides } from '../backend/backend.js';
import { LabelMode, Reduce, Unary, type UnaryCode } from '../backend/codes.js';
import { engine } from '../engine.js';
import type { LossName } from '../losses.js';
import { ActivationLayer, Dropout, Linear, type Layer } from '../nn/layers.js';
import { activationAlpha, activationCode } from '../ops/linalg.js';
import { Tensor } from '../tensor.js';

/**
 * A model and a loss compiled into a fixed sequence of backend calls over buffers allocated once.
 * After the first step (which also creates the optimizer state and the gemm workspace), a training step
 * allocates nothing: batches are gathered into the same buffers, every layer writes into its own
 * activation and gradient buffers, and the optimizer updates each parameter in one fused kernel.
 * The math is the autograd rules' math (the tests compare the two gradient for gradient).
 */
export interface PlanOptions {
  loss: LossName;
  delta: number;
  maxRows: number;
  inFeatures: number;
  /** Columns of the target per row: 0 for class indices ([n]), else [n, k]. */
  targetCols: number;
}

type Buf = { t: Tensor; h: unknown };

const full = (rows: number, cols: number): Strides => ({ s0: rows * cols, s1: cols, s2: 1 });
const colVec: Strides = { s0: 0, s1: 1, s2: 0 };
const scalar: Strides = { s0: 0, s1: 0, s2: 0 };

interface Step {
  layer: Layer;
  kind: 'linear' | 'unary' | 'softmax' | 'logSoftmax' | 'dropout';
  inCols: number;
  cols: number;
  /** Output (and, for linear layers with a non-readable derivative, the pre-activation). */
  y: Buf;
  z: Buf | null;
  /** Gradient with respect to this step's input (null for the first step). */
  dx: Buf | null;
  /** Scratch: dropout mask, softmax row sums, or the activation derivative. */
  tmp: Buf | null;
  tmp2: Buf | null;
  code: UnaryCode;
  alpha: number;
  /** Parameters and their gradient buffers (linear only). */
  w: Buf | null;
  b: Buf | null;
  dw: Buf | null;
  db: Buf | null;
  /** The buffer that held this step's output in the last forward pass (dropout is the identity at eval). */
  out: unknown;
}

export class TrainPlan {
  readonly steps: Step[] = [];
  private readonly be: Backend;
  private readonly bufs: Tensor[] = [];
  readonly x: Buf;
  readonly y: Buf;
  private readonly idx: Buf;
  private readonly dPred: Buf;
  private readonly d: Buf;
  private readonly t1: Buf;
  private readonly t2: Buf;
  private readonly probs: Buf | null;
  private readonly lossRows: Buf;
  private readonly loss: Buf;
  private readonly dyRows: Buf | null;
  private readonly consts: Buf;
  private readonly negDelta: Buf;
  /** Running sums over an epoch, read once at its end: Σ rows·loss and the correct predictions. */
  private readonly acc: Buf;
  private readonly hits: Buf;
  private readonly half: Buf;
  readonly predCols: number;
  /** Layers at the end folded into the loss (softmax before softmax cross-entropy, sigmoid before BCE). */
  readonly folded: number;
  private seed = 0;
  private offset = 0;

  constructor(private readonly layers: Layer[], private readonly o: PlanOptions) {
    this.be = engine.requireBackend();
    const R = o.maxRows;
    const last = layers[layers.length - 1];
    this.folded =
      last instanceof ActivationLayer &&
      ((o.loss === 'softmaxCrossEntropy' && (last.activation === 'softmax' || last.activation === 'logSoftmax')) ||
        (o.loss === 'binaryCrossEntropy' && last.activation === 'sigmoid'))
        ? 1
        : 0;
    this.x = this.buf(R * o.inFeatures);
    this.y = this.buf(R * Math.max(1, o.targetCols));
    this.idx = this.buf(R);
    let cols = o.inFeatures;
    const active = layers.slice(0, layers.length - this.folded);
    active.forEach((layer, i) => {
      const inCols = cols;
      cols = layer.outFeatures(inCols);
      const s: Step = {
        layer, kind: 'unary', inCols, cols, y: this.buf(R * cols), z: null, dx: i > 0 ? this.buf(R * inCols) : null,
        tmp: null, tmp2: null, code: Unary.identity, alpha: 0, w: null, b: null, dw: null, db: null, out: null,
      };
      if (layer instanceof Linear) {
        s.kind = 'linear';
        s.code = activationCode[layer.activation] as UnaryCode;
        s.alpha = activationAlpha(layer.activation, layer.alpha);
        const fromOutput = s.code === Unary.identity || s.code === Unary.relu || (s.code === Unary.leakyRelu && s.alpha >= 0);
        if (!fromOutput) s.z = this.buf(R * cols);
        if (s.code !== Unary.identity) s.tmp = this.buf(R * cols);
        s.w = { t: layer.weight, h: layer.weight.handle('fit') };
        s.dw = this.buf(layer.weight.size, layer.weight.shape);
        if (layer.bias) {
          s.b = { t: layer.bias, h: layer.bias.handle('fit') };
          s.db = this.buf(layer.bias.size, layer.bias.shape);
        }
      } else if (layer instanceof Dropout) {
        s.kind = 'dropout';
        s.tmp = this.buf(R * cols);
      } else if (layer instanceof ActivationLayer) {
        if (layer.activation === 'softmax' || layer.activation === 'logSoftmax') {
          s.kind = layer.activation;
          s.tmp = this.buf(R * cols);
          s.tmp2 = this.buf(R);
        } else {
          s.code = layer.code!;
          s.alpha = activationAlpha(layer.activation, layer.alpha);
          if (s.code === Unary.identity) s.kind = 'dropout'; // pass-through: handled like dropout at eval
        }
      } else throw new Error(`fit: layer type '${(layer as Layer).type}' is not supported by the training plan.`);
      this.steps.push(s);
    });
    this.predCols = cols;
    const n = R * cols;
    this.dPred = this.buf(n);
    this.d = this.buf(n);
    this.t1 = this.buf(n);
    this.t2 = this.buf(n);
    this.probs = o.loss === 'softmaxCrossEntropy' ? this.buf(n) : null;
    this.lossRows = this.buf(R);
    this.loss = this.buf(1);
    this.dyRows = o.loss === 'softmaxCrossEntropy' ? this.buf(R) : null;
    this.consts = this.buf(1);
    this.negDelta = this.buf(1);
    this.be.write(this.consts.h, Float32Array.of(o.delta));
    this.be.write(this.negDelta.h, Float32Array.of(-o.delta));
    this.acc = this.buf(2);
    this.hits = this.buf(1);
    this.half = this.buf(1);
    this.be.write(this.half.h, Float32Array.of(0.5));
    this.resetTotals();
  }

  private buf(size: number, shape: readonly number[] = [size]): Buf {
    const t = new Tensor(shape, engine.newStorage(size), false);
    this.bufs.push(t);
    return { t, h: t.handle('fit') };
  }

  /** Gradient tensors in the order of the parameters (weight, bias per linear layer). */
  grads(): Tensor[] {
    return this.steps.flatMap((s) => (s.dw ? (s.db ? [s.dw.t, s.db.t] : [s.dw.t]) : []));
  }
  params(): Tensor[] {
    return this.steps.flatMap((s) => (s.w ? (s.b ? [s.w.t, s.b.t] : [s.w.t]) : []));
  }

  setDropoutSeed(seed: number): void {
    this.seed = seed >>> 0;
    this.offset = 0;
  }

  /** Gathers rows of the full data set into the batch buffers. */
  gather(x: Tensor, y: Tensor, rows: Float32Array): void {
    const be = this.be;
    be.write(this.idx.h, rows);
    be.gatherRows(rows.length, this.o.inFeatures, x.handle('fit'), this.idx.h, this.x.h);
    be.gatherRows(rows.length, Math.max(1, this.o.targetCols), y.handle('fit'), this.idx.h, this.y.h);
  }

  /** Forward pass over `rows` rows of the batch buffers; returns the handle of the prediction. */
  forward(rows: number, training: boolean): unknown {
    const be = this.be;
    let x: unknown = this.x.h;
    for (const s of this.steps) {
      const n = rows * s.cols;
      switch (s.kind) {
        case 'linear': {
          const out = s.z ? s.z.h : s.y.h;
          be.gemm({ m: rows, n: s.cols, k: s.inCols, a: x, transA: false, b: s.w!.h, transB: false, c: out, bias: s.b ? s.b.h : null, act: s.z ? Unary.identity : s.code, alpha: s.alpha, beta: 0 });
          if (s.z) be.unary(s.code, n, s.z.h, s.y.h, s.alpha);
          s.out = s.y.h;
          break;
        }
        case 'unary':
          be.unary(s.code, n, x, s.y.h, s.alpha);
          s.out = s.y.h;
          break;
        case 'softmax':
        case 'logSoftmax':
          be.softmax(rows, s.cols, x, s.y.h, s.kind === 'logSoftmax');
          s.out = s.y.h;
          break;
        case 'dropout': {
          const rate = s.layer instanceof Dropout ? s.layer.rate : 0;
          if (training && rate > 0) {
            be.dropout(n, x, s.y.h, s.tmp!.h, 1 - rate, this.seed, this.offset);
            this.offset = (this.offset + n) >>> 0;
            s.out = s.y.h;
          } else s.out = x;
          break;
        }
      }
      x = s.out;
    }
    return x;
  }

  /** The mean loss of the last forward pass against the batch targets, left in the loss buffer. */
  private lossForward(rows: number, pred: unknown): void {
    const be = this.be, k = this.predCols, N = rows * k;
    const F = full(rows, k);
    switch (this.o.loss) {
      case 'softmaxCrossEntropy':
        be.softmaxXent(rows, k, pred, this.y.h, this.o.targetCols === 0 ? LabelMode.index : LabelMode.dense, this.probs!.h, this.lossRows.h);
        be.reduce(Reduce.mean, 1, rows, 1, this.lossRows.h, this.loss.h);
        return;
      case 'mse':
        be.binary(1, 1, rows, k, pred, F, this.y.h, F, this.d.h);
        be.reduce(Reduce.sumSquares, 1, N, 1, this.d.h, this.loss.h);
        be.affine(1, this.loss.h, this.loss.h, 1 / N, 0);
        return;
      case 'mae':
        be.binary(1, 1, rows, k, pred, F, this.y.h, F, this.d.h);
        be.unary(Unary.abs, N, this.d.h, this.t1.h, 0);
        be.reduce(Reduce.mean, 1, N, 1, this.t1.h, this.loss.h);
        return;
      case 'huber': {
        // ½d² below δ, δ(|d| − ½δ) above: q = min(|d|, δ), loss = q·(|d| − ½q).
        be.binary(1, 1, rows, k, pred, F, this.y.h, F, this.d.h);
        be.unary(Unary.abs, N, this.d.h, this.t1.h, 0);
        be.binary(5, 1, rows, k, this.t1.h, F, this.consts.h, scalar, this.t2.h);
        be.axpy(N, -0.5, this.t2.h, this.t1.h);
        be.binary(2, 1, rows, k, this.t1.h, F, this.t2.h, F, this.t1.h);
        be.reduce(Reduce.mean, 1, N, 1, this.t1.h, this.loss.h);
        return;
      }
      case 'binaryCrossEntropy':
        // max(z, 0) − z·y + log(1 + e^−|z|)
        be.unary(Unary.relu, N, pred, this.t1.h, 0);
        be.binary(2, 1, rows, k, pred, F, this.y.h, F, this.t2.h);
        be.axpy(N, -1, this.t2.h, this.t1.h);
        be.unary(Unary.abs, N, pred, this.t2.h, 0);
        be.affine(N, this.t2.h, this.t2.h, -1, 0);
        be.unary(Unary.softplus, N, this.t2.h, this.t2.h, 0);
        be.axpy(N, 1, this.t2.h, this.t1.h);
        be.reduce(Reduce.mean, 1, N, 1, this.t1.h, this.loss.h);
        return;
    }
  }

  /** dLoss/dPred into dPred (the mean over rows·k elements, or over rows for cross-entropy). */
  private lossBackward(rows: number, pred: unknown): void {
    const be = this.be, k = this.predCols, N = rows * k;
    const F = full(rows, k);
    switch (this.o.loss) {
      case 'softmaxCrossEntropy':
        be.fill(rows, this.dyRows!.h, 1 / rows);
        be.softmaxXentGrad(rows, k, this.probs!.h, this.y.h, this.o.targetCols === 0 ? LabelMode.index : LabelMode.dense, this.dyRows!.h, this.dPred.h);
        return;
      case 'mse':
        be.affine(N, this.d.h, this.dPred.h, 2 / N, 0);
        return;
      case 'mae':
        be.unary(Unary.sign, N, this.d.h, this.dPred.h, 0);
        be.affine(N, this.dPred.h, this.dPred.h, 1 / N, 0);
        return;
      case 'huber':
        // clamp(d, −δ, δ)/N
        be.binary(4, 1, rows, k, this.d.h, F, this.negDelta.h, scalar, this.dPred.h);
        be.binary(5, 1, rows, k, this.dPred.h, F, this.consts.h, scalar, this.dPred.h);
        be.affine(N, this.dPred.h, this.dPred.h, 1 / N, 0);
        return;
      case 'binaryCrossEntropy':
        be.unary(Unary.sigmoid, N, pred, this.dPred.h, 0);
        be.axpy(N, -1, this.y.h, this.dPred.h);
        be.affine(N, this.dPred.h, this.dPred.h, 1 / N, 0);
        return;
    }
  }

  /** Backward pass: parameter gradients into the grad buffers. */
  private backward(rows: number): void {
    const be = this.be;
    let dy: unknown = this.dPred.h;
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const s = this.steps[i];
      const n = rows * s.cols;
      const x = i > 0 ? this.steps[i - 1].out : this.x.h;
      let dx: unknown = s.dx ? s.dx.h : null;
      switch (s.kind) {
        case 'linear': {
          let dz = dy;
          if (s.code !== Unary.identity) {
            be.unaryGrad(s.code, n, s.z ? s.z.h : s.y.h, s.y.h, dy, s.tmp!.h, s.alpha);
            dz = s.tmp!.h;
          }
          be.gemm({ m: s.inCols, n: s.cols, k: rows, a: x, transA: true, b: dz, transB: false, c: s.dw!.h, bias: null, act: Unary.identity, alpha: 0, beta: 0 });
          if (s.db) be.reduce(Reduce.sum, 1, rows, s.cols, dz, s.db.h);
          if (dx) be.gemm({ m: rows, n: s.inCols, k: s.cols, a: dz, transA: false, b: s.w!.h, transB: true, c: dx, bias: null, act: Unary.identity, alpha: 0, beta: 0 });
          break;
        }
        case 'unary':
          if (dx) be.unaryGrad(s.code, n, x, s.y.h, dy, dx, s.alpha);
          break;
        case 'softmax':
          // dx = y·(dy − Σ dy·y)
          if (dx) {
            be.binary(2, 1, rows, s.cols, dy, full(rows, s.cols), s.y.h, full(rows, s.cols), s.tmp!.h);
            be.reduce(Reduce.sum, rows, s.cols, 1, s.tmp!.h, s.tmp2!.h);
            be.binary(1, 1, rows, s.cols, dy, full(rows, s.cols), s.tmp2!.h, colVec, s.tmp!.h);
            be.binary(2, 1, rows, s.cols, s.tmp!.h, full(rows, s.cols), s.y.h, full(rows, s.cols), dx);
          }
          break;
        case 'logSoftmax':
          // dx = dy − e^y·Σ dy
          if (dx) {
            be.reduce(Reduce.sum, rows, s.cols, 1, dy, s.tmp2!.h);
            be.unary(Unary.exp, n, s.y.h, s.tmp!.h, 0);
            be.binary(2, 1, rows, s.cols, s.tmp!.h, full(rows, s.cols), s.tmp2!.h, colVec, s.tmp!.h);
            be.binary(1, 1, rows, s.cols, dy, full(rows, s.cols), s.tmp!.h, full(rows, s.cols), dx);
          }
          break;
        case 'dropout':
          if (dx) {
            if (s.out === s.y.h) be.binary(2, 1, rows, s.cols, dy, full(rows, s.cols), s.tmp!.h, full(rows, s.cols), dx);
            else be.copy(n, dy, dx);
          }
          break;
      }
      if (dx) dy = dx;
    }
  }

  /** One training step's math (without the optimizer); the batch's loss and hits join the totals. */
  computeGradients(rows: number): void {
    const pred = this.forward(rows, true);
    this.lossForward(rows, pred);
    this.tally(rows, pred);
    this.lossBackward(rows, pred);
    this.backward(rows);
  }

  /** The loss and hits of the batch in the buffers, without training (dropout off), into the totals. */
  evaluate(rows: number): void {
    const pred = this.forward(rows, false);
    this.lossForward(rows, pred);
    this.tally(rows, pred);
  }

  /** The last batch's mean loss, read synchronously (backends that can). */
  lastLoss(): number {
    return this.be.readSync(this.loss.h, 1)[0];
  }

  resetTotals(): void {
    this.be.fill(2, this.acc.h, 0);
    this.be.fill(1, this.hits.h, 0);
  }

  /** Σ rows·loss and the number of correct predictions since resetTotals(). */
  async totals(): Promise<{ loss: number; hits: number }> {
    const a = this.be.canReadSync ? this.be.readSync(this.acc.h, 2) : await this.be.read(this.acc.h, 2);
    const h = this.be.canReadSync ? this.be.readSync(this.hits.h, 1) : await this.be.read(this.hits.h, 1);
    return { loss: a[0], hits: h[0] };
  }

  /**
   * Adds rows·loss to the totals and, for classification losses, the batch's correct predictions
   * (argmax of the logits against the labels; for binary cross-entropy, logit > 0 against target ≥ ½,
   * averaged over the outputs). Everything stays on the backend: no readback per batch.
   */
  private tally(rows: number, pred: unknown): void {
    const be = this.be, k = this.predCols;
    be.axpy(1, rows, this.loss.h, this.acc.h);
    if (this.o.loss === 'softmaxCrossEntropy') {
      be.reduce(Reduce.argmax, rows, k, 1, pred, this.lossRows.h);
      let labels = this.y.h;
      if (this.o.targetCols !== 0) {
        be.reduce(Reduce.argmax, rows, k, 1, this.y.h, this.t2.h);
        labels = this.t2.h;
      }
      const v = { s0: rows, s1: 0, s2: 1 };
      be.binary(8, 1, 1, rows, this.lossRows.h, v, labels, v, this.t1.h);
      be.reduce(Reduce.sum, 1, rows, 1, this.t1.h, this.t2.h);
      be.axpy(1, 1, this.t2.h, this.hits.h);
    } else if (this.o.loss === 'binaryCrossEntropy') {
      const N = rows * k, F = full(rows, k);
      be.fill(1, this.t2.h, 0);
      be.binary(6, 1, rows, k, pred, F, this.t2.h, scalar, this.t1.h); // logit > 0
      be.binary(7, 1, rows, k, this.y.h, F, this.half.h, scalar, this.t2.h); // target ≥ ½
      be.binary(8, 1, rows, k, this.t1.h, F, this.t2.h, F, this.t1.h);
      be.reduce(Reduce.sum, 1, N, 1, this.t1.h, this.t2.h);
      be.axpy(1, 1 / k, this.t2.h, this.hits.h);
    }
  }

  dispose(): void {
    for (const t of this.bufs) t.dispose();
    this.bufs.length = 0;
  }
}
