// The metrics tables that train (on the test split) and predict (when the CSV has the target) print.
import * as sd from '../index.js';
import { count, metric, table } from './format.js';

/** Per-class table and confusion matrix only up to this many classes (wider ones do not read). */
export const MAX_CLASSES_SHOWN = 12;

export interface ClassificationSummary {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  logLoss: number;
  text: string;
}

/**
 * Metrics of class probabilities `probs` ([n, k] rows summing to 1, or [n, 1] = P(class 1)) against
 * class indices `labels` [n].
 */
export function classificationSummary(probs: sd.Tensor, labels: ArrayLike<number>, classes: readonly string[], title: string): ClassificationSummary {
  const y = Array.from(labels);
  const rep = sd.metrics.classificationReport(probs, y, { classNames: classes, digits: 4 });
  const logLoss = sd.metrics.logLoss(probs, y);
  // Macro averages over the classes present in the labels or the predictions (scikit-learn's
  // precision_score default), so that scoring a few rows does not average in absent classes as 0.
  const precision = sd.metrics.precision(probs, y), recall = sd.metrics.recall(probs, y), f1 = sd.metrics.f1(probs, y);
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
    text += `  (${classes.length} classes: the per-class table and confusion matrix are shown for up to ${MAX_CLASSES_SHOWN})\n`;
  }
  return { accuracy: rep.accuracy, precision, recall, f1, logLoss, text };
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

export function regressionSummary(pred: sd.Tensor, target: ArrayLike<number>, title: string): RegressionSummary {
  const t = Array.from(target);
  const p = Array.from(pred.dataSync());
  const mse = sd.metrics.mse(p, t), mae = sd.metrics.mae(p, t), r2 = sd.metrics.r2(p, t);
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
