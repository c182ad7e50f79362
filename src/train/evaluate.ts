// evaluate(): the loss (and accuracy) of a model on labelled data, as recorded steps without training.
import type { LossName } from '../nn/losses.js';
import { getLoss } from '../nn/losses.js';
import type { Sequential } from '../nn/model.js';
import type { TensorInput } from '../ops/creation.js';
import type { Tensor } from '../core/tensor.js';
import { asTensor, checkData } from './data.js';
import { CLASS_LOSSES, posInt } from './options.js';
import { Steps } from './step.js';

/** The options of evaluate(). */
export interface EvaluateOptions {
  /** The loss to report (as fit's). */
  loss: LossName;
  /** Rows per step (default 256). */
  batchSize?: number;
  /** Huber's delta (default 1). */
  delta?: number;
}

/** What evaluate() returns (as Keras' model.evaluate). */
export interface EvaluateResult {
  /** The mean loss over the rows. */
  loss: number;
  /** The share of rows classified right (classification losses only). */
  accuracy?: number;
}

/** Loss (and accuracy for classification losses) of the model on x, y, without training. */
export async function evaluate(model: Sequential, xIn: TensorInput, yIn: TensorInput, options: EvaluateOptions): Promise<EvaluateResult> {
  model.check('evaluate');
  if (!options || typeof options !== 'object') throw new TypeError("evaluate: options {loss} are required, e.g. {loss: 'mse'}.");
  getLoss(options.loss, 'evaluate');
  const batchSize = posInt(options.batchSize, 'batchSize', 256, 'evaluate');
  const owned: Tensor[] = [];
  let steps: Steps | null = null;
  try {
    const X = asTensor(xIn, 'x', 'evaluate'), Y = asTensor(yIn, 'y', 'evaluate');
    if (X.own) owned.push(X.t);
    if (Y.own) owned.push(Y.t);
    let x = X.t;
    const y = Y.t;
    const { cols: targetCols } = await checkData(model, x, y, options.loss, '', 'evaluate');
    if (model.preprocessing.scaler) owned.push((x = model.preprocessing.scaler.transform(x)));
    const n = x.shape[0];
    if (n === 0) throw new RangeError('evaluate: x has no rows.');
    steps = new Steps(model.layers, { loss: options.loss, delta: options.delta ?? 1, maxRows: Math.min(batchSize, n), inFeatures: model.inputSize, targetCols });
    const rows = new Float32Array(Math.min(batchSize, n));
    for (let s = 0; s < n; s += batchSize) {
      const chunk = rows.subarray(0, Math.min(batchSize, n - s));
      for (let i = 0; i < chunk.length; i++) chunk[i] = s + i;
      steps.gather(x, y, chunk);
      steps.evaluate(chunk.length);
    }
    const t = await steps.totals();
    const res: EvaluateResult = { loss: t.loss / n };
    if (CLASS_LOSSES.includes(options.loss)) res.accuracy = t.hits / n;
    return res;
  } finally {
    steps?.dispose();
    for (const t of owned) t.dispose();
  }
}
