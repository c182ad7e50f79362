// A two-layer network trained on the digits table with the tensor ops alone: the forward pass, the
// backward pass written out by hand, and plain SGD. Run: npm run demo (after npm install).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as sd from '../dist/index.js';

const info = await sd.init({ backend: process.argv[2] ?? 'auto' });
console.log(`simdnn on ${info.backend} (${info.binary ?? 'no wasm'}), ${info.runtime}`);

// Load digits.csv: 64 pixel columns (0..16) and the digit.
const text = readFileSync(fileURLToPath(new URL('../data/digits.csv', import.meta.url)), 'utf8').trim().split('\n').slice(1);
const rows = text.map((l) => l.split(',').map(Number));
let seed = 42;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
for (let i = rows.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [rows[i], rows[j]] = [rows[j], rows[i]]; }
const nTest = Math.round(rows.length * 0.2);
const split = (part) => ({
  x: sd.tensor(part.flatMap((r) => r.slice(0, 64).map((v) => v / 16)), [part.length, 64]),
  y: sd.tensor(part.map((r) => r[64])),
});
const test = split(rows.slice(0, nTest)), train = split(rows.slice(nTest));

// Parameters: He initialisation for the relu layer.
const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const param = (n, k, scale) => sd.tensor(Float32Array.from({ length: n * k }, () => normal() * scale), [n, k]);
let W1 = param(64, 64, Math.sqrt(2 / 64)), b1 = sd.zeros([64]);
let W2 = param(64, 10, Math.sqrt(1 / 64)), b2 = sd.zeros([10]);

const lr = 0.1, batch = 32, epochs = 20, nTrain = train.x.shape[0];
const t0 = performance.now();
for (let epoch = 1; epoch <= epochs; epoch++) {
  let lossSum = 0;
  for (let start = 0; start + batch <= nTrain; start += batch) {
    const step = sd.tidy(() => {
      const x = sd.tensor(train.x.dataSync().subarray(start * 64, (start + batch) * 64), [batch, 64]);
      const y = sd.tensor(train.y.dataSync().subarray(start, start + batch));
      const h = sd.dense(x, W1, b1, 'relu'); // forward
      const logits = sd.dense(h, W2, b2);
      const loss = sd.softmaxCrossEntropy(logits, y);
      // backward: dlogits = (softmax − onehot) / batch, then through the layers.
      const onehot = sd.equal(y.reshape([batch, 1]), sd.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
      const dz2 = logits.softmax().sub(onehot).div(batch);
      const dW2 = h.matmul(dz2, { transposeA: true }), db2 = dz2.sum(0);
      const dh = dz2.matmul(W2, { transposeB: true }).mul(h.greater(0));
      const dW1 = x.matmul(dh, { transposeA: true }), db1 = dh.sum(0);
      const upd = (p, g) => p.sub(g.mul(lr));
      return { loss, W1: upd(W1, dW1), b1: upd(b1, db1), W2: upd(W2, dW2), b2: upd(b2, db2) };
    });
    sd.dispose([W1, b1, W2, b2]);
    ({ W1, b1, W2, b2 } = step);
    lossSum += step.loss.dataSync()[0];
    step.loss.dispose();
  }
  if (epoch % 5 === 0 || epoch === 1) console.log(`epoch ${String(epoch).padStart(2)}  loss ${(lossSum / Math.floor(nTrain / batch)).toFixed(4)}`);
}
const acc = sd.tidy(() => {
  const pred = sd.dense(sd.dense(test.x, W1, b1, 'relu'), W2, b2).argmax(1);
  return pred.equal(test.y).mean().dataSync()[0];
});
console.log(`test accuracy ${(acc * 100).toFixed(1)}% on ${nTest} held-out digits (${((performance.now() - t0) / 1000).toFixed(2)} s, ${sd.memory().tensors} tensors alive)`);
