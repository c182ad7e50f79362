// Private training (DP-SGD) against ordinary training, side by side in one process: the bench's MNIST MLP
// (784-512-256-10, relu, softmax cross-entropy, adam 1e-3, batch 128) on real MNIST digits, on one thread
// (wasm) and on the wasm-threads backend, each measured as the median of several alternating rounds.
// Then utility: test accuracy of private training at ε ≈ 1, 3 and 8 (δ = 1e-5) on MNIST and on the
// digits table, beside the non-private accuracy.
//
//   npm run build && node bench/privacy.mjs [--quick] [--no-utility] [--no-speed] [--epochs N]
//
// --epochs: epochs per timed fit (default 3, as the main bench trains). A fit records its step once per
// batch size it meets, and Poisson batches meet ~9 sizes, so a 1-epoch fit carries that start-up cost
// in full (~3% of the private fit); over longer runs it fades.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as sd from '../dist/index.js';
import { ensureCache, loadSplit } from './lib/mnist.mjs';
import { median } from './lib/timing.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const epochsArg = argv.indexOf('--epochs');
const EPOCHS = epochsArg >= 0 ? Number(argv[epochsArg + 1]) : 3;
const say = (s) => process.stdout.write(`${s}\n`);
ensureCache();
const data = loadSplit({ nTrain: quick ? 2560 : 8000, nTest: 2000 });

async function speed(backend) {
  await sd.init(backend === 'wasm' ? { backend: 'wasm' } : { backend: 'wasm-threads', threads: os.availableParallelism?.() ?? 2 });
  const x = sd.tensor(data.xTrain, [data.nTrain, 784]), y = sd.tensor(Float32Array.from(data.yTrain));
  const modes = {
    ordinary: undefined,
    'DP poisson': { noiseMultiplier: 1.1, maxGradNorm: 1, delta: 1e-5 },
    'DP shuffle': { noiseMultiplier: 1.1, maxGradNorm: 1, delta: 1e-5, sampling: 'shuffle' },
  };
  const res = Object.fromEntries(Object.keys(modes).map((k) => [k, []]));
  const rounds = quick ? 3 : 5;
  for (let r = 0; r < rounds + 1; r++)
    for (const [name, privacy] of Object.entries(modes)) {
      const m = sd.mlp([784, 512, 256, 10], { seed: 0 });
      const opt = sd.optimizers.adam({ lr: 1e-3 });
      const t0 = performance.now();
      const h = await m.fit(x, y, { loss: 'softmaxCrossEntropy', optimizer: opt, epochs: EPOCHS, batchSize: 128, seed: r, privacy });
      const ms = performance.now() - t0;
      // Samples per second over the steps trained (Poisson batches vary; steps × batchSize is their expectation).
      if (r > 0) res[name].push((h.steps * 128) / (ms / 1000));
      m.dispose();
      opt.dispose();
    }
  sd.dispose([x, y]);
  const base = median(res.ordinary);
  say(`\n${backend} (${sd.info().threads} thread${sd.info().threads > 1 ? 's' : ''}), median of ${rounds} alternating fits of ${EPOCHS} epoch${EPOCHS > 1 ? 's' : ''} × ${data.nTrain} samples, load ${os.loadavg()[0].toFixed(1)}:`);
  for (const [name, v] of Object.entries(res)) say(`  ${name.padEnd(11)} ${Math.round(median(v)).toLocaleString('en-US').padStart(7)} samples/s  ${(median(v) / base).toFixed(3)}× ordinary   [${v.map((s) => Math.round(s)).join(' ')}]`);
  return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, median(v)]));
}

async function utility() {
  await sd.init({ backend: 'wasm-threads' }).catch(() => sd.init({ backend: 'wasm' }));
  const digitsCsv = fileURLToPath(new URL('../data/digits.csv', import.meta.url));
  const ds = await sd.data.readCsv(readFileSync(digitsCsv), { target: 'digit' });
  const dsplit = sd.data.split(ds.x, ds.y, { test: 0.2, stratify: true, seed: 0 });
  const tables = {
    MNIST: { train: { x: sd.tensor(data.xTrain, [data.nTrain, 784]), y: sd.tensor(Float32Array.from(data.yTrain)) }, test: { x: sd.tensor(data.xTest, [data.nTest, 784]), y: sd.tensor(Float32Array.from(data.yTest)) }, sizes: [784, 256, 10], epochs: quick ? 10 : 30, batchSize: 256, lr: 1e-3 },
    digits: { ...dsplit, sizes: [64, 128, 10], epochs: 40, batchSize: 64, lr: 2e-3 },
  };
  for (const [name, t] of Object.entries(tables)) {
    const n = t.train.x.shape[0];
    const scaler = sd.data.standardize(t.train.x);
    const run = async (privacy) => {
      const m = sd.mlp(t.sizes, { seed: 0 });
      m.preprocessing = { scaler };
      const opt = sd.optimizers.adam({ lr: t.lr });
      const h = await m.fit(t.train.x, t.train.y, { loss: 'softmaxCrossEntropy', optimizer: opt, epochs: t.epochs, batchSize: t.batchSize, seed: 1, privacy });
      const acc = sd.metrics.accuracy(m.predictClasses(t.test.x), t.test.y);
      m.dispose();
      opt.dispose();
      return { acc, eps: h.epsilon.at(-1) };
    };
    const plain = await run(undefined);
    say(`\n${name} (${n} training rows, ${t.epochs} epochs, batch ${t.batchSize}, C = 1, δ = 1e-5): non-private test accuracy ${(100 * plain.acc).toFixed(2)}%`);
    for (const target of [1, 3, 8]) {
      // fit runs ⌈n / batchSize⌉ steps per epoch: σ for exactly those steps.
      const sigma = sd.privacy.noiseFor({ targetEpsilon: target, delta: 1e-5, n, batchSize: t.batchSize, steps: t.epochs * Math.ceil(n / t.batchSize) });
      const r = await run({ noiseMultiplier: sigma, maxGradNorm: 1, delta: 1e-5 });
      say(`  ε = ${r.eps.toFixed(2)} (σ = ${sigma.toFixed(3)}): test accuracy ${(100 * r.acc).toFixed(2)}%  (${(100 * (r.acc - plain.acc)).toFixed(2)} points)`);
    }
  }
}

say(`simdnn private training bench, ${new Date().toISOString()}, ${os.cpus()[0]?.model?.trim()}, Node ${process.version}`);
if (!argv.includes('--no-speed')) {
  const one = await speed('wasm');
  const two = await speed('wasm-threads');
  say(`\nDP (Poisson) ÷ ordinary: ${(one['DP poisson'] / one.ordinary).toFixed(3)}× on 1 thread, ${(two['DP poisson'] / two.ordinary).toFixed(3)}× on ${os.availableParallelism?.() ?? 2} (bar: ≥ 0.8×)`);
}
if (!argv.includes('--no-utility')) await utility();
sd.shutdown();
