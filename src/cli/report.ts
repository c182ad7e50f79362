// The metrics tables that train (on the test split) and predict (when the CSV has the target) print.
// Scores are gathered batch by batch (scoreModel, ClassifierScores), so that scoring keeps one value
// per row, never the rows × classes probabilities of the whole set at once: with a 25,000-class
// target, 10,000 test rows of probabilities are 1 GB.
import * as sd from '../index.js';
import { count, metric, table } from './format.js';

/** Per-class table and confusion matrix only up to this many classes (wider ones do not read). */
export const MAX_CLASSES_SHOWN = 12;

/** Rows per batch when scoring: about 4 M probabilities (16 MB) a batch, at most 4,096 rows. */
export function scoreBatch(outputs: number): number {
  return Math.max(1, Math.min(4096, Math.floor((1 << 22) / Math.max(1, outputs))));
}

/** Class predictions and log-loss of a classifier, added a batch of probabilities at a time. */
export class ClassifierScores {
  private pred = new Int32Array(1024);
  private truth = new Int32Array(1024);
  private logLossSum = 0;
  n = 0;

  /**
   * probs: a batch's class probabilities [m, k] (rows summing to 1) or [m, 1] = P(class 1); truth:
   * the true class of each row in `rows` (default: every row of probs, in order).
   */
  add(probs: sd.Tensor, truth: ArrayLike<number>, rows?: Uint32Array): void {
    const m = rows ? rows.length : probs.shape[0];
    if (m === 0) return;
    const p = probs.dataSync(), k = probs.shape[1];
    if (this.n + m > this.pred.length) {
      const size = Math.max(this.n + m, this.pred.length * 2);
      for (const key of ['pred', 'truth'] as const) {
        const a = new Int32Array(size);
        a.set(this[key].subarray(0, this.n));
        this[key] = a;
      }
    }
    for (let j = 0; j < m; j++) {
      const i = rows ? rows[j] : j;
      let best = 0;
      if (k === 1) best = p[i] > 0.5 ? 1 : 0; // the threshold of metrics.accuracy for one probability column
      else for (let c = 1; c < k; c++) if (p[i * k + c] > p[i * k + best]) best = c; // the first on ties, as argmax
      this.pred[this.n + j] = best;
      this.truth[this.n + j] = truth[j];
    }
    const t = Array.from(truth);
    // metrics.logLoss is a mean: weighted by the batch's rows, the batches' means add up to the whole's.
    if (rows && rows.length !== probs.shape[0]) {
      const sel = sd.gatherRows(probs, rows);
      try {
        this.logLossSum += sd.metrics.logLoss(sel, t) * m;
      } finally {
        sel.dispose();
      }
    } else this.logLossSum += sd.metrics.logLoss(probs, t) * m;
    this.n += m;
  }

  summary(classes: readonly string[], title: string): ClassificationSummary {
    const pred = this.pred.subarray(0, this.n), y = this.truth.subarray(0, this.n);
    const rep = sd.metrics.classificationReport(pred, y, { classNames: classes, digits: 4 });
    const logLoss = this.logLossSum / this.n;
    // Macro averages over the classes present in the labels or the predictions (scikit-learn's
    // precision_score default), so that scoring a few rows does not average in absent classes as 0.
    const precision = sd.metrics.precision(pred, y), recall = sd.metrics.recall(pred, y), f1 = sd.metrics.f1(pred, y);
    let text = `${title}\n`;
    text += table([
      ['accuracy', metric(rep.accuracy)],
      ['precision (macro)', metric(precision)],
      ['recall (macro)', metric(recall)],
      ['F1 (macro)', metric(f1)],
      ['log-loss', metric(logLoss)],
    ]);
    if (classes.length <= MAX_CLASSES_SHOWN && rep.confusion) {
      text += `\nper class\n${rep.text.split('\n').map((l) => (l ? `  ${l}` : l)).join('\n')}`;
      if (!text.endsWith('\n')) text += '\n';
      text += `\nconfusion matrix (rows: true class, columns: predicted)\n${confusion(rep.confusion, classes)}`;
    } else {
      text += `  (${count(classes.length)} classes: the per-class table and confusion matrix are shown for up to ${MAX_CLASSES_SHOWN})\n`;
    }
    return { accuracy: rep.accuracy, precision, recall, f1, logLoss, text };
  }
}

export interface ClassificationSummary {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  logLoss: number;
  text: string;
}

function confusion(cm: number[][], classes: readonly string[]): string {
  const rows = [['', ...classes], ...cm.map((r, i) => [classes[i], ...r.map((v) => count(v))])];
  return table(rows, (c) => c > 0);
}

export interface RegressionSummary {
  mse: number;
  rmse: number;
  mae: number;
  r2: number;
  text: string;
}

/** Predictions ([n], or [n, 1] flattened) against targets [n]. */
export function regressionSummary(pred: ArrayLike<number>, target: ArrayLike<number>, title: string): RegressionSummary {
  const mse = sd.metrics.mse(pred, target), mae = sd.metrics.mae(pred, target), r2 = sd.metrics.r2(pred, target);
  const rmse = Math.sqrt(mse);
  const text = `${title}\n` + table([
    ['MSE', metric(mse)],
    ['RMSE', metric(rmse)],
    ['MAE', metric(mae)],
    ['R²', metric(r2)],
  ]);
  return { mse, rmse, mae, r2, text };
}

/** Probabilities from the model's outputs: softmax of logits (k > 1) or sigmoid of one logit, unless the model already ends in softmax/sigmoid. */
export function probabilities(model: sd.Sequential, out: sd.Tensor): sd.Tensor {
  const last = model.layers[model.layers.length - 1].config() as { type: string; activation?: string };
  const act = last.type === 'activation' ? last.activation : last.type === 'linear' ? last.activation : undefined;
  if (out.shape[1] > 1) {
    if (act === 'softmax') return out.clone();
    if (act === 'logSoftmax') return out.exp();
    return out.softmax();
  }
  return act === 'sigmoid' ? out.clone() : sd.sigmoid(out);
}

/**
 * Scores `model` on x (rows) against y, a batch at a time: the summary table for a classifier
 * (y: class indices) or a regression model (y: values in the model's units).
 */
export function scoreModel(model: sd.Sequential, x: sd.Tensor, y: sd.Tensor, task: 'classification' | 'regression', classes: readonly string[], title: string): string {
  const scores = new ClassifierScores();
  const n = x.shape[0];
  const pred = task === 'regression' ? new Float32Array(n) : null;
  let at = 0;
  for (const b of sd.data.batches(x, y, { batchSize: scoreBatch(model.outputSize) })) {
    const owned: sd.Tensor[] = [b.x, b.y!];
    try {
      const out = model.predict(b.x);
      owned.push(out);
      if (pred) {
        pred.set(out.dataSync(), at);
      } else {
        const probs = probabilities(model, out);
        owned.push(probs);
        scores.add(probs, b.y!.dataSync());
      }
      at += b.x.shape[0];
    } finally {
      sd.dispose(owned);
    }
  }
  return pred ? regressionSummary(pred, y.dataSync(), title).text : scores.summary(classes, title).text;
}
