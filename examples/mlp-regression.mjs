// A small MLP learns y = x·[1, −1.5] + noise (x 2-D, noise σ = 0.1) from 1,000 points and is scored
// on 200 it never saw. Its test MSE cannot go below the noise variance σ² = 0.01, the error of the
// true function itself; a model that has learnt the function lands close to it.
// Run: node examples/mlp-regression.mjs   (after npm run build)
import { pathToFileURL } from 'node:url';
import * as sd from '../dist/index.js'; // in your project: from 'simdnn'

export async function run({ backend = 'auto', log = console.log } = {}) {
  await sd.init({ backend });

  // The data: x ~ N(0, 1)², y = x₁ − 1.5·x₂ + N(0, σ²). x is [n, 2], y is [n, 1].
  const n = 1200, sigma = 0.1, w = [1, -1.5];
  const r = sd.data.rng(7);
  const xs = new Float32Array(n * 2), ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    xs[2 * i] = r.normal();
    xs[2 * i + 1] = r.normal();
    ys[i] = xs[2 * i] * w[0] + xs[2 * i + 1] * w[1] + r.normal(0, sigma);
  }
  const x = sd.tensor(xs, [n, 2]), y = sd.tensor(ys, [n, 1]);
  const { train, test } = sd.data.split(x, y, { test: 200 / n, seed: 0 });

  // The model: 2 → 32 → 32 → 1 with tanh, trained with Adam on the mean squared error.
  const model = sd.mlp([2, 32, 32, 1], { activation: 'tanh', seed: 0 });
  await model.fit(train.x, train.y, {
    loss: 'mse',
    optimizer: sd.optimizers.adam({ lr: 3e-3 }),
    epochs: 150,
    batchSize: 32,
    schedule: sd.schedules.cosine({ tMax: 150 }),
    seed: 0,
  });

  const pred = model.predict(test.x);
  const testMse = sd.metrics.mse(pred, test.y);
  const trainPred = model.predict(train.x);
  const trainMse = sd.metrics.mse(trainPred, train.y);
  log(`test MSE ${testMse.toFixed(5)} on ${test.x.shape[0]} unseen points (train MSE ${trainMse.toFixed(5)})`);
  log(`noise variance σ² = ${(sigma ** 2).toFixed(5)}: the best any model can do (test MSE / σ² = ${(testMse / sigma ** 2).toFixed(2)})`);

  sd.dispose([x, y, train, test, pred, trainPred]);
  model.dispose();
  return { testMse, trainMse, sigma, noiseVariance: sigma ** 2 };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
