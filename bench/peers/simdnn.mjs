// simdnn through its public API only (the built bundle dist/index.js, as a user imports it).
// Variants: 'wasm', 'js', 'wasm-threads:<n>'.
//
// fit():      model.fit (the compiled training plan: gather, fused dense forward/backward, fused adam).
// stepLoop(): the general path a user writes by hand: forward through the autograd ops, backward(),
//             optimizer.step() over the parameters; the batch is gathered with gatherRows.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// SIMDNN_BENCH_DIST: another build to measure (bench/run.mjs --baseline).
const DIST = process.env.SIMDNN_BENCH_DIST || fileURLToPath(new URL('../../dist/index.js', import.meta.url));

function parseVariant(variant) {
  if (variant.startsWith('wasm-threads')) return { backend: 'wasm-threads', threads: Number(variant.split(':')[1] || 1) };
  return { backend: variant };
}

function initOptions(variant) {
  const { backend, threads } = parseVariant(variant);
  return backend === 'wasm-threads' ? { backend, threads } : { backend };
}

export async function create(variant) {
  let s, model, x, y, xTest, nTest, yTestArr, nTrain;
  const sizes = [784, 512, 256, 10];
  return {
    async init() {
      s = await import(DIST);
      this.build = createHash('sha1').update(readFileSync(DIST)).digest('hex').slice(0, 10);
      const info = await s.init(initOptions(variant));
      const want = parseVariant(variant);
      if (want.backend !== info.backend) throw new Error(`asked for ${variant}, got ${info.backend}`);
      if (want.threads && info.threads !== undefined && info.threads !== want.threads) throw new Error(`asked for ${want.threads} threads, got ${info.threads}`);
      return `simdnn ${info.backend}${info.binary ? ` (${info.binary} kernels)` : ''}${info.notes.length ? `; ${info.notes.join('; ')}` : ''}`;
    },
    /**
     * wasm-threads starts its workers in the background after 20 ms of work large enough to split: keep
     * such work going until info() no longer says they are idle or starting (at most 10 s), so the
     * threads columns measure the threads, not a run that is joined midway.
     */
    async startThreads() {
      if (!variant.startsWith('wasm-threads') || parseVariant(variant).threads < 2) return;
      const a = s.tensor(new Float32Array(256 * 256).fill(0.5), [256, 256]);
      const t0 = performance.now();
      const waiting = () => s.info().notes.some((n) => /workers (start in the background|are starting)/.test(n));
      while (waiting() && performance.now() - t0 < 10_000) {
        s.tidy(() => s.matmul(a, a));
        await new Promise((r) => setTimeout(r, 1));
      }
      a.dispose();
      if (waiting()) throw new Error('wasm-threads: the workers did not start within 10 s');
    },
    setData(d) {
      x = s.tensor(d.xTrain, [d.nTrain, 784]);
      y = s.tensor(Float32Array.from(d.yTrain), [d.nTrain]);
      xTest = s.tensor(d.xTest, [d.nTest, 784]);
      yTestArr = d.yTest;
      nTest = d.nTest;
      nTrain = d.nTrain;
    },
    buildModel(seed) {
      model?.dispose();
      model = s.mlp(sizes, { seed }); // relu hidden (he init), linear logits (glorot init)
    },
    async fit({ epochs, batchSize, lr, onBatch }) {
      await model.fit(x, y, {
        loss: 'softmaxCrossEntropy',
        optimizer: s.optimizers.adam({ lr }),
        epochs,
        batchSize,
        shuffle: true,
        seed: 1,
        callbacks: { onBatchEnd: (_b, logs) => (onBatch(logs.size) ? false : undefined) },
      });
    },
    async testAccuracy() {
      const pred = model.predictClasses(xTest);
      let hits = 0;
      for (let i = 0; i < nTest; i++) hits += pred[i] === yTestArr[i] ? 1 : 0;
      return hits / nTest;
    },
    async stepLoop({ batchSize, lr, order, onStep }) {
      const opt = s.optimizers.adam({ lr });
      const params = model.parameters();
      try {
        for (let start = 0; ; start += batchSize) {
          if (start + batchSize > nTrain) start = 0;
          const idx = order.subarray(start, start + batchSize);
          s.tidy(() => {
            const xb = s.gatherRows(x, idx), yb = s.gatherRows(y, idx);
            const loss = s.softmaxCrossEntropy(model.forward(xb, { training: true }), yb);
            s.backward(loss);
          });
          opt.step(params, params.map((p) => p.grad));
          model.zeroGrad();
          if (onStep(batchSize)) break;
        }
      } finally {
        opt.dispose();
      }
      return 'autograd: forward, backward(), optimizer.step()';
    },
    predict1(row) {
      const out = model.predict(row);
      const v = out.dataSync();
      out.dispose();
      return v;
    },
    predictBatch(rows, n) {
      const t = s.tensor(rows, [n, 784]);
      const out = model.predict(t);
      const v = out.dataSync();
      out.dispose();
      t.dispose();
      return v;
    },
    /** One product through the public matmul: 'nn' A·B, 'nt' A·Bᵀ, 'tn' Aᵀ·B. */
    gemm(form, m, n, k, fill) {
      const ta = form[0] === 't', tb = form[1] === 't';
      const a = s.tensor(fill(m * k), ta ? [k, m] : [m, k]);
      const b = s.tensor(fill(k * n), tb ? [n, k] : [k, n]);
      const opts = { transposeA: ta, transposeB: tb };
      return {
        run: () => s.matmul(a, b, opts).dispose(),
        dispose: () => (a.dispose(), b.dispose()),
      };
    },
    dispose() {
      model?.dispose();
      for (const t of [x, y, xTest]) t?.dispose();
      s?.shutdown?.();
    },
  };
}

/** Cold start: import, initialise, build the model, predict once; `mark` names each step's end (bench/lib/cold.mjs). */
export async function coldStart(variant, mark = () => {}) {
  const s = await import(DIST);
  mark('import');
  await s.init(initOptions(variant));
  mark('init');
  const model = s.mlp([784, 512, 256, 10], { seed: 0 });
  mark('build');
  const out = model.predict(new Float32Array(784).fill(0.5)).dataSync();
  mark('predict');
  s.shutdown?.();
  return out.length;
}
