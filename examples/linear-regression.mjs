// Linear regression, the first example of every course: recover w = 2, b = 0 from 200 noisy points
// y = 2x + N(0, 0.3²) with one linear layer, the mean squared error and plain gradient descent (SGD
// over the whole set each step, so it settles on the least-squares optimum). The gradients come
// from the library (the textbook versions of this loop often get the sign or the 2/n factor wrong),
// and the answer is checked against the closed-form least-squares solution.
// Run: node examples/linear-regression.mjs   (after npm run build)
import { pathToFileURL } from 'node:url';
import * as sd from '../dist/index.js'; // in your project: from 'simdnn'

export async function run({ backend = 'auto', log = console.log } = {}) {
  await sd.init({ backend });

  // The data: x uniform in [-2, 2], y = 2x + noise with σ = 0.3, from a seeded generator.
  const n = 200, sigma = 0.3;
  const r = sd.data.rng(42);
  const xs = Float64Array.from({ length: n }, () => r.uniform(-2, 2));
  const ys = xs.map((x) => 2 * x + r.normal(0, sigma));
  const x = sd.tensor(Float32Array.from(xs), [n, 1]);
  const y = sd.tensor(Float32Array.from(ys), [n, 1]);

  // The model: y = x·w + b, one linear layer from 1 input to 1 output.
  const model = sd.sequential([sd.layers.linear(1, 1)], { seed: 0 });
  const history = await model.fit(x, y, {
    loss: 'mse',
    optimizer: sd.optimizers.sgd({ lr: 0.1 }),
    epochs: 100,
    batchSize: n, // full batch: each step is one exact gradient step
    seed: 0,
  });
  const [[w], [b]] = model.getWeights().map((a) => Array.from(a));

  // Closed form (ordinary least squares, in float64): w = cov(x, y) / var(x), b = ȳ − w·x̄.
  const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
  const mx = mean(xs), my = mean(ys);
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const wOls = sxy / sxx, bOls = my - wOls * mx;

  const mse = history.loss[history.loss.length - 1];
  log(`trained (sgd, 100 steps):   w = ${w.toFixed(4)}, b = ${b.toFixed(4)}, training MSE ${mse.toFixed(4)} (noise variance σ² = ${sigma ** 2})`);
  log(`closed-form least squares:  w = ${wOls.toFixed(4)}, b = ${bOls.toFixed(4)}`);
  log(`true line:                  w = 2, b = 0`);

  sd.dispose([x, y]);
  model.dispose();
  return { w, b, wOls, bOls, mse, sigma };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
