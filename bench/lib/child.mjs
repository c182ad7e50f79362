// One benchmark process for one system: node bench/lib/child.mjs '<config json>' <result file>
//
// Runs, in order: training through the system's high-level API (after a short warm-up run on a
// throwaway model), test accuracy, peak RSS (of the whole process, and of the training alone), a raw
// step loop, inference latency at batch 1 and throughput at batch 1024, and gemm through the public
// matrix product. Writes one JSON object to the result file. bench/run.mjs starts one per system.
import { writeFileSync } from 'node:fs';
import { loadSplit } from './mnist.mjs';
import { clock, currentRssMB, median, peakRssMB, percentile, prng, resetPeakRss, shuffleInPlace, timeCall, windows } from './timing.mjs';

const cfg = JSON.parse(process.argv[2]);
const resultFile = process.argv[3];
const out = { id: cfg.id, peer: cfg.peer, variant: cfg.variant };
const log = (msg) => process.stderr.write(`  ${cfg.id}: ${msg}\n`);

function finish(code = 0) {
  writeFileSync(resultFile, JSON.stringify(out));
  process.exit(code);
}

/** Deterministic inputs for gemm operands. */
function fill(n) {
  const a = new Float32Array(n);
  let s = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

try {
  const mod = await import(`../peers/${cfg.peer}.mjs`);
  const sys = await mod.create(cfg.variant);
  try {
    out.desc = await sys.init();
    if (sys.build) out.build = sys.build;
    // Threads that start in the background (simdnn's workers) are running before anything is measured.
    await sys.startThreads?.();
  } catch (e) {
    out.skipped = e.message.split('\n')[0];
    finish();
  }

  // Data: every system gets the same Float32 pixels and labels; the system copies them into its own
  // storage, and the JS copies are dropped before training.
  let t = clock();
  let d = loadSplit({ nTrain: cfg.nTrain, nTest: cfg.nTest, seed: 42 });
  sys.setData(d);
  const batchRows = d.xTrain.slice(0, 1024 * 784);
  const probeRows = d.xTest.slice(0, 64 * 784);
  d = null;
  out.loadSec = (clock().wall - t.wall) / 1000;
  // Peak RSS is a high-water mark: note the one of loading, then (Linux) reset it, so that the training
  // figure is what training needs on top of the data already resident in the system's own storage.
  globalThis.gc?.();
  out.rssLoadPeakMB = peakRssMB();
  out.rssAfterLoadMB = currentRssMB();
  const reset = resetPeakRss();

  // Warm-up: a short run on a throwaway model, so the measured run starts with compiled code.
  log('warm-up');
  sys.buildModel(cfg.seed + 1);
  {
    const w0 = clock();
    let batches = 0;
    await sys.fit({
      epochs: 1, batchSize: cfg.batch, lr: cfg.lr,
      onBatch: () => ++batches >= cfg.warmBatches || clock().wall - w0.wall > cfg.warmMs,
    });
  }

  // --profile: the V8 sampling profiler (what `node --cpu-prof` runs) around the measured training run
  // only, so that import, data loading and warm-up stay out of it.
  let profiler = null;
  if (cfg.profileFile) {
    const { Session } = await import('node:inspector');
    profiler = new Session();
    profiler.connect();
    const post = (method, params) => new Promise((res, rej) => profiler.post(method, params, (e, r) => (e ? rej(e) : res(r))));
    profiler.stopTo = async (file) => writeFileSync(file, JSON.stringify((await post('Profiler.stop')).profile));
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: cfg.profileIntervalUs ?? 200 });
    await post('Profiler.start');
  }

  // Training through the high-level API.
  log(`training ${cfg.epochs} epoch(s) of ${cfg.nTrain} samples${cfg.trainCapSec < 1e6 ? ` (capped at ${cfg.trainCapSec} s)` : ''}`);
  sys.buildModel(cfg.seed);
  const marks = [];
  let done = 0, capped = false;
  const start = clock();
  marks.push({ ...start, done: 0 });
  await sys.fit({
    epochs: cfg.epochs, batchSize: cfg.batch, lr: cfg.lr,
    onBatch: (rows) => {
      done += rows;
      const c = clock();
      marks.push({ ...c, done });
      if (c.wall - start.wall > cfg.trainCapSec * 1000) capped = true;
      return capped;
    },
  });
  const end = clock();
  if (profiler) await profiler.stopTo(cfg.profileFile);
  const win = windows(marks, { skip: Math.min(2, marks.length - 2), minMs: cfg.windowMs });
  out.train = {
    perSec: median(win.wall),
    cpuPerSec: median(win.cpu),
    windows: win.wall.length,
    overallPerSec: (done / (end.wall - start.wall)) * 1000,
    samples: done,
    seconds: (end.wall - start.wall) / 1000,
    epochs: done / cfg.nTrain,
    capped,
  };
  t = clock();
  out.train.accuracy = await sys.testAccuracy();
  out.rssTrainPeakMB = reset ? peakRssMB() : NaN;
  out.rssMB = Math.max(out.rssLoadPeakMB, peakRssMB());
  log(`${out.train.perSec.toFixed(0)} samples/s, accuracy ${(out.train.accuracy * 100).toFixed(2)}%, peak RSS ${out.rssMB.toFixed(0)} MB (training ${out.rssTrainPeakMB.toFixed(0)} MB)`);
  if (cfg.profileOnly) finish();

  // Raw step loop (no high-level training loop), timed the same way, on the trained model.
  if (sys.stepLoop && cfg.stepMs > 0) {
    log('step loop');
    const order = shuffleInPlace(Int32Array.from({ length: cfg.nTrain }, (_, i) => i), prng(7));
    const sm = [];
    let n = 0;
    const s0 = clock();
    sm.push({ ...s0, done: 0 });
    const label = await sys.stepLoop({
      batchSize: cfg.batch, lr: cfg.lr, order,
      onStep: (rows) => {
        n += rows;
        const c = clock();
        sm.push({ ...c, done: n });
        return c.wall - s0.wall > cfg.stepMs;
      },
    });
    // Warm-up: the first 3 steps and the first 300 ms.
    let skip = 3;
    while (skip < sm.length - 2 && sm[skip].wall - s0.wall < 300) skip++;
    const w = windows(sm, { skip: Math.min(skip, sm.length - 2), minMs: cfg.windowMs });
    out.step = { perSec: median(w.wall), cpuPerSec: median(w.cpu), windows: w.wall.length, label };
  }

  // Inference at batch 1: each call from a Float32Array row to the output values.
  log('inference');
  {
    const rows = 64;
    const row = (i) => probeRows.subarray((i % rows) * 784, ((i % rows) + 1) * 784);
    const w0 = performance.now();
    for (let i = 0; performance.now() - w0 < cfg.latWarmMs || i < 50; i++) sys.predict1(row(i));
    const lat = [];
    const c0 = clock();
    for (let i = 0; lat.length < cfg.latCalls && performance.now() - c0.wall < cfg.latMs; i++) {
      const a = performance.now();
      sys.predict1(row(i));
      lat.push((performance.now() - a) * 1000);
    }
    const c1 = clock();
    out.infer = {
      p50us: median(lat),
      p99us: percentile(lat, 99),
      cpuMeanUs: ((c1.cpu - c0.cpu) / lat.length) * 1000,
      calls: lat.length,
    };
    const tb = timeCall(() => sys.predictBatch(batchRows, 1024), { samples: cfg.samples, sampleMs: 0, capMs: cfg.batchCapMs, warm: 1, minSamples: cfg.minSamples });
    out.infer.batch1024PerSec = 1024 / tb.sec;
    out.infer.batch1024CpuPerSec = 1024 / tb.cpuSec;
  }

  // gemm through the public matrix product.
  if (sys.gemm && cfg.gemm.length) {
    log('gemm');
    out.gemm = {};
    for (const g of cfg.gemm) {
      const p = sys.gemm(g.form, g.m, g.n, g.k, fill);
      const r = timeCall(p.run, { samples: cfg.samples, sampleMs: cfg.gemmSampleMs, capMs: cfg.gemmCapMs, minSamples: cfg.minSamples });
      p.dispose();
      const flop = 2 * g.m * g.n * g.k;
      out.gemm[g.key] = { gflops: flop / r.sec / 1e9, cpuGflops: flop / r.cpuSec / 1e9 };
    }
  }
  sys.dispose();
  finish();
} catch (e) {
  out.error = String(e?.stack ?? e).split('\n').slice(0, 6).join('\n');
  finish(1);
}
