// Trains the digits classifier that the edge example serves and saves it as one safetensors file.
//   node examples/edge/train.mjs [out.safetensors]        (default: examples/edge/model.safetensors)
//   npx deno run --allow-read --allow-write examples/edge/train.mjs
// node.mjs and deno.mjs call trainDigits() themselves when the model file is missing.
import * as sd from 'simdnn';

const here = (p) => decodeURIComponent(new URL(p, import.meta.url).pathname);
export const DEFAULT_MODEL_PATH = here('./model.safetensors');
/** data/digits.csv as the package ships it (in this repository: the one at its root). */
const DIGITS = decodeURIComponent(new URL('data/digits.csv', import.meta.resolve('simdnn/package.json')).pathname);

/** Trains an MLP on data/digits.csv; resolves {model, bytes, accuracy, seconds}. Needs init() first. */
export async function trainDigits({ csv = DIGITS, epochs = 25, seed = 1 } = {}) {
  const t0 = performance.now();
  const ds = await sd.data.readCsv(csv, { from: 'path', target: 'digit', task: 'classification' });
  const { train, test } = sd.data.split(ds.x, ds.y, { test: 0.2, stratify: true, seed });
  const model = sd.mlp([ds.columns.length, 64, ds.classes.length], { seed });
  // Saved with the model: the scaler (so clients send raw pixel counts), the class and column names,
  // and the CSV encoding (so {"features": {"p0": ...}} works by name).
  model.preprocessing = {
    scaler: sd.data.standardize(train.x), classes: ds.classes, columns: ds.columns, target: ds.target, task: ds.task, encoding: ds.encoding,
  };
  await model.fit(train.x, train.y, { loss: 'softmaxCrossEntropy', optimizer: sd.optimizers.adam({ lr: 1e-3 }), epochs, batchSize: 32, seed });
  const accuracy = sd.metrics.accuracy(model.predictClasses(test.x), test.y);
  sd.dispose([ds.x, ds.y, train.x, train.y, test.x, test.y]);
  return { model, bytes: sd.save(model), accuracy, seconds: (performance.now() - t0) / 1000 };
}

const isMain = typeof Deno === 'object' ? import.meta.main : process.argv[1] && here(import.meta.url) === (await import('node:path')).resolve(process.argv[1]);
if (isMain) {
  const out = (typeof Deno === 'object' ? Deno.args : process.argv.slice(2))[0] ?? DEFAULT_MODEL_PATH;
  await sd.init({ backend: 'auto' });
  const { bytes, accuracy, seconds } = await trainDigits();
  await sd.writeFileAtomic(out, bytes);
  console.log(`trained the digits model in ${seconds.toFixed(1)} s: test accuracy ${(accuracy * 100).toFixed(1)}%; wrote ${out} (${(bytes.byteLength / 1024).toFixed(1)} KiB)`);
  sd.shutdown(); // ends the threads backend's workers, which would keep the process alive
}
