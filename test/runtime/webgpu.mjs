// WebGPU cases of the runtime smoke suite (smoke.mjs): registered by the runners that run the 'webgpu'
// backend (webgpu-node.mjs; index.html with ?webgpu=1; deno.mjs where Deno has an adapter), on top of the
// suite's per-backend cases, which all read with `await data()`.
import { perBackend } from './smoke.mjs';

const onWebGpu = { when: (_opts, backend) => backend === 'webgpu' };

/** Two Gaussian-ish blobs in 2-D, labels 0/1, from a fixed seed (no data file to fetch). */
function blobs(n, seed) {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const x = [], y = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    x.push([(c ? 1.5 : -1.5) + (rand() - 0.5) * 2, (c ? -1 : 1) + (rand() - 0.5) * 2]);
    y.push(c);
  }
  return { x, y };
}

perBackend('info() names the WebGPU adapter; reads are asynchronous', async ({ sn, assert }) => {
  const notes = sn.info().notes.join('\n');
  assert.ok(/webgpu: adapter .+; \d+ pipelines compiled in \d+ ms/.test(notes), `info().notes name the adapter: ${notes}`);
  const t = sn.tensor([1, 2, 3]);
  await assert.throws(() => t.dataSync(), /asynchronously/, 'dataSync()');
  assert.close(await t.mul(2).data(), [2, 4, 6], 0, 'await data()');
  t.dispose();
}, onWebGpu);

perBackend('fit → predict on two blobs (adam, softmax cross-entropy) reaches 95% accuracy', async ({ sn, assert, keep, log }) => {
  const { x, y } = blobs(96, 5);
  const model = sn.mlp([2, 8, 2], { seed: 1 });
  const optimizer = sn.optimizers.adam({ lr: 0.05 });
  const t0 = performance.now();
  const h = await model.fit(x, y, { loss: 'softmaxCrossEntropy', optimizer, epochs: 15, batchSize: 16, seed: 1 });
  const ms = performance.now() - t0;
  const pred = keep(model.predict(x));
  const p = await pred.data();
  let hits = 0;
  y.forEach((label, i) => { if ((p[2 * i + 1] > p[2 * i] ? 1 : 0) === label) hits++; });
  log(`# webgpu fit: ${h.steps} steps in ${ms.toFixed(0)} ms, loss ${h.loss[0].toFixed(3)} → ${h.loss.at(-1).toFixed(3)}, accuracy ${(hits / y.length).toFixed(3)}`);
  assert.ok(h.loss.at(-1) < h.loss[0], `the loss fell (${h.loss[0]} → ${h.loss.at(-1)})`);
  assert.ok(hits / y.length >= 0.95, `accuracy ${hits / y.length} ≥ 0.95`);
  optimizer.dispose();
  model.dispose();
}, onWebGpu);
