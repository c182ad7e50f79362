// Integrated gradients on the MNIST MLP (784-512-256-10, relu), one row, 64 steps, one thread: simdnn's
// explain() against the same attribution written by hand in TF.js on its wasm backend (XNNPACK, SIMD, one
// thread in Node), in the same process and the same run.
//
//   node bench/explain.mjs            rounds of: simdnn explain(), tfjs 64 tf.grad calls, tfjs one
//                                     batched tf.grad call; the median of each, and the ratios
//   --rounds=N                        rounds (default 7); each round times each system over >= 200 ms
//
// The work: the path from the baseline (black) to the digit at 64 Gauss–Legendre nodes is one batch of 64
// rows, one forward and one backward pass through the three layers (0.14 GFLOP: no weight gradients), then
// (x − baseline) ⊙ Σ w_k ∂f/∂x. simdnn's explain() also runs f(x) and f(baseline) (a 2-row forward pass,
// for the completeness gap it reports) and copies the attributions back; the TF.js loops do neither. The
// target class is given (the predicted one), so neither side spends a forward pass finding it; the time
// of the default (target found by explain() itself) is shown beside.
//
// Rounds alternate the systems so that load from other processes on the machine falls on all of them;
// every figure is a median over rounds, and each ratio is the median of the per-round ratios. The model
// is untrained (he-normal weights, seeded): training changes no cost. The attributions of both sides are
// compared, so the race is between equal results.
//
// It runs the sources (src/), bundled with esbuild into .tmp/bench-explain/, so it needs no build.
import v8 from 'node:v8';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadSplit } from './lib/mnist.mjs';
import { median } from './lib/timing.mjs';

// Node 20 validates relaxed SIMD only behind this flag; it must be set before any compile.
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, dflt) => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : dflt;
};
const ROUNDS = arg('rounds', 7);
const STEPS = 64;
const SIZES = [784, 512, 256, 10];

async function loadSimdnn() {
  const esbuild = await import('esbuild');
  const { wasmInline } = await import('../scripts/wasm-inline.mjs');
  const outdir = join(root, '.tmp', 'bench-explain');
  mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    bundle: true, format: 'esm', platform: 'neutral', target: 'es2022', plugins: [wasmInline()], charset: 'utf8',
    external: ['node:*'], mainFields: ['module', 'main'], logLevel: 'warning', absWorkingDir: root,
    entryPoints: { index: 'src/index.ts' }, outdir,
  });
  return import(pathToFileURL(join(outdir, 'index.js')).href);
}

async function loadTfjs() {
  // tfjs prints a banner suggesting tfjs-node; keep stdout clean.
  const log = console.log, warn = console.warn;
  console.log = console.warn = () => {};
  try {
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') failed");
    await tf.ready();
    return tf;
  } finally {
    console.log = log;
    console.warn = warn;
  }
}

/** Milliseconds per call of an async fn: calls repeated for at least minMs, the mean over them. */
async function perCall(fn, minMs = 200) {
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs || calls < 3) {
    await fn();
    calls++;
    t = performance.now();
  }
  return (t - t0) / calls;
}

const sd = await loadSimdnn();
const info = await sd.init({ backend: 'wasm' });
const tf = await loadTfjs();
const tfDesc = `tfjs ${tf.version.tfjs} wasm (SIMD ${(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'on' : 'off'}, threads ${(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) ? 'on' : 'off'})`;

const model = sd.mlp(SIZES, { seed: 7 });
const params = await Promise.all(model.parameters().map((p) => p.data()));
const { xTest } = loadSplit({ nTrain: 0, nTest: 1, seed: 42 });
const row = xTest.slice(0, 784);
const target = (await sd.explain(model, row, { steps: 1 })).targets[0];
const { nodes, weights } = sd.quadrature(STEPS, 'gaussLegendre');

// ---- simdnn
const simdnnIg = () => sd.explain(model, row, { steps: STEPS, target });
const simdnnDefault = () => sd.explain(model, row, { steps: STEPS });

// ---- TF.js, written by hand: the same weights ([in, out] in both), the same nodes and weights.
const W = [];
for (let l = 0; l < 3; l++) W.push(tf.tensor2d(params[2 * l], [SIZES[l], SIZES[l + 1]]), tf.tensor1d(params[2 * l + 1]));
const logits = (x) => {
  let h = x;
  for (let l = 0; l < 3; l++) {
    h = tf.add(tf.matMul(h, W[2 * l]), W[2 * l + 1]);
    if (l < 2) h = tf.relu(h);
  }
  return h;
};
const x = tf.tensor2d(row, [1, 784]);
const base = tf.zeros([1, 784]);
const diff = tf.sub(x, base);
const pick = tf.oneHot(tf.tensor1d([target], 'int32'), 10).toFloat(); // [1, 10]
const gradOne = tf.grad((p) => tf.sum(tf.mul(logits(p), pick)));
const alphas = tf.tensor2d(Float32Array.from(nodes), [STEPS, 1]);
const wSel = tf.mul(tf.tensor2d(Float32Array.from(weights), [STEPS, 1]), pick); // [64, 10]
const gradBatch = tf.grad((p) => tf.sum(tf.mul(logits(p), wSel)));

/** 64 separate tf.grad calls, one per point of the path, summed with the quadrature weights. */
const tfjsLoop = () =>
  tf.tidy(() => {
    let acc = tf.zeros([1, 784]);
    for (let k = 0; k < STEPS; k++) {
      const p = tf.add(base, tf.mul(nodes[k], diff));
      acc = tf.add(acc, tf.mul(weights[k], gradOne(p)));
    }
    return tf.mul(diff, acc).dataSync();
  });
/** The path as one batch of 64 rows: one tf.grad call. */
const tfjsBatch = () =>
  tf.tidy(() => {
    const path = tf.add(base, tf.mul(alphas, diff));
    return tf.mul(diff, tf.sum(gradBatch(path), 0, true)).dataSync();
  });

// ---- the same result on both sides (float32 sums in other orders: relative to the largest attribution)
const ours = (await simdnnIg()).attributions, loop = tfjsLoop(), batch = tfjsBatch();
const scale = Math.max(...ours.map(Math.abs));
const diffTo = (b) => Math.max(...Array.from(ours, (v, i) => Math.abs(v - b[i]))) / scale;
const agree = { loop: diffTo(loop), batch: diffTo(batch) };
if (!(agree.loop < 1e-4 && agree.batch < 1e-4)) throw new Error(`the attributions differ: ${agree.loop}, ${agree.batch} of the largest`);

// ---- the race
for (let i = 0; i < 3; i++) await simdnnIg(), tfjsLoop(), tfjsBatch(), await simdnnDefault(); // warm-up
const t = { simdnn: [], simdnnDefault: [], loop: [], batch: [] };
for (let r = 0; r < ROUNDS; r++) {
  t.simdnn.push(await perCall(simdnnIg));
  t.loop.push(await perCall(async () => tfjsLoop()));
  t.batch.push(await perCall(async () => tfjsBatch()));
  t.simdnnDefault.push(await perCall(simdnnDefault));
  process.stderr.write(`  round ${r + 1}/${ROUNDS}: simdnn ${t.simdnn[r].toFixed(2)} ms, tfjs loop ${t.loop[r].toFixed(2)} ms, tfjs batched ${t.batch[r].toFixed(2)} ms\n`);
}
const ratio = (a, b) => median(a.map((v, i) => v / b[i]));
// Two products per layer: the forward one and dX = dY·Wᵀ (gradients of the inputs only; neither side
// computes dW, as the weights are constants here).
const flop = 2 * STEPS * 2 * (784 * 512 + 512 * 256 + 256 * 10);

console.log(`Integrated gradients, MLP ${SIZES.join('-')}, 1 row, ${STEPS} steps, one thread (median of ${ROUNDS} rounds)`);
console.log(`  simdnn: ${info.backend}${info.binary ? ` (${info.binary} kernels)` : ''}; peer: ${tfDesc}`);
console.log(`  attributions agree with TF.js within ${Math.max(agree.loop, agree.batch).toExponential(1)} of the largest`);
const line = (name, ms, note = '') => console.log(`  ${name.padEnd(44)} ${ms.toFixed(2).padStart(7)} ms ${note}`);
line('simdnn explain(), target given', median(t.simdnn), `(${(flop / median(t.simdnn) / 1e6).toFixed(1)} GFLOP/s; goal ≤ 5 ms)`);
line('simdnn explain(), target found by explain()', median(t.simdnnDefault));
line('tfjs-wasm, 64 tf.grad calls', median(t.loop), `→ simdnn ${ratio(t.loop, t.simdnn).toFixed(1)}× faster`);
line('tfjs-wasm, one batched tf.grad call', median(t.batch), `→ simdnn ${ratio(t.batch, t.simdnn).toFixed(2)}× faster`);
