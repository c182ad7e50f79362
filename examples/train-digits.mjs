// The whole workflow on a real dataset: read a CSV, split it, standardize, build an MLP, train it with
// validation and early stopping, evaluate, save, load it back and predict on raw rows.
// The data: 1,797 handwritten digits, 8×8 pixel counts (0..16) in 64 columns, and the digit.
// Run: node examples/train-digits.mjs   (after npm run build)
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import * as sd from '../dist/index.js'; // in your project: import * as sd from 'simdnn';

export async function run({ backend = 'auto', out = 'digits.safetensors', log = console.log } = {}) {
  const info = await sd.init({ backend });
  log(`backend: ${info.backend}`);

  // 1. Read the table: x [1797, 64], y [1797] class indices, classes ['0', …, '9'].
  const data = await sd.data.readCsv(new URL('../data/digits.csv', import.meta.url), { target: 'digit' });

  // 2. Hold out 20% for testing, with every digit in the same proportion in both parts.
  const { train, test } = sd.data.split(data.x, data.y, { test: 0.2, stratify: true, seed: 0 });

  // 3. Build the model. The scaler is fitted on the training rows only; attached to the model, it is
  //    applied by fit, predict and evaluate and saved with the weights, as are the names and encoding.
  const model = sd.mlp([data.columns.length, 128, data.classes.length], { seed: 0 });
  model.preprocessing = {
    scaler: sd.data.standardize(train.x),
    classes: data.classes,
    columns: data.columns,
    target: data.target,
    task: data.task,
    encoding: data.encoding,
  };

  // 4. Train: 10% of the training rows validate each epoch; stop when the validation loss has not
  //    improved for 5 epochs and keep the best weights.
  const history = await model.fit(train.x, train.y, {
    loss: 'softmaxCrossEntropy',
    optimizer: sd.optimizers.adam({ lr: 1e-3 }),
    epochs: 50,
    batchSize: 32,
    validationSplit: 0.1,
    earlyStopping: { patience: 5, restoreBest: true },
    callbacks: {
      onEpochEnd: (epoch, l) => log(`epoch ${epoch + 1}: loss ${l.loss.toFixed(4)}, val loss ${l.valLoss.toFixed(4)}, val acc ${l.valAccuracy.toFixed(4)}`),
    },
  });

  // 5. Evaluate on the test rows.
  const logits = model.predict(test.x);
  const accuracy = sd.metrics.accuracy(logits, test.y);
  const report = sd.metrics.classificationReport(logits, test.y, { classNames: data.classes });
  log(report.text);
  log(`test accuracy ${accuracy.toFixed(4)} after ${history.epochs.length} epochs`);

  // 6. Save: one safetensors file with the weights, the topology and the preprocessing.
  await sd.saveFile(model, out);

  // 7. Load it (in another program, a browser or a serverless function) and predict on raw rows:
  //    encodeRows matches CSV columns by name (a target column is ignored) and encodes them as in training.
  const loaded = await sd.load(out);
  const csv = (await readFile(new URL('../data/digits.csv', import.meta.url), 'utf8')).split('\n').slice(0, 4).join('\n');
  const rows = sd.data.encodeRows(loaded.preprocessing.encoding, csv); // header + 3 rows → [3, 64]
  const digits = loaded.predictClasses(rows).map((i) => loaded.preprocessing.classes[i]);
  log(`the loaded model reads the file's first three digits as ${digits.join(', ')}`);

  const loadedLogits = loaded.predict(test.x);
  const loadedAccuracy = sd.metrics.accuracy(loadedLogits, test.y); // the same as before saving

  sd.dispose([data.x, data.y, train, test, logits, rows, loadedLogits]);
  model.dispose();
  loaded.dispose();
  return { accuracy, loadedAccuracy, digits, epochs: history.epochs.length, stoppedEarly: history.stoppedEarly, out };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
